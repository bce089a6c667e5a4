// Helpers for the messaging tests (channel, select, mailbox, pipe): the
// shared ones of test_support.hpp under the names these tests use, plus
// "is thread X blocked for reason R".
#pragma once

#include "test_support.hpp"

namespace msg_test {

using namespace std::chrono_literals;
using Workers = weft_test::WorkerCount;
using weft_test::eventually;
using weft_test::worker_name;

#define MSG_WORKER_COUNTS(suite) WEFT_WORKER_COUNTS(suite)
#define MSG_EXPECT_ERROR(stmt, want) EXPECT_WEFT_ERROR(stmt, want)

// True once thread id (of the caller's runtime) is blocked for reason r.
inline bool blocked_on(weft::thread_id id, weft::wait_reason r) {
  return eventually([&] {
    auto i = weft_test::info_of(id);
    return i && i->state == weft::thread_state::blocked && i->waiting_for == r;
  });
}

}  // namespace msg_test
