// Helpers for the messaging tests (channel, select, mailbox, pipe): a
// worker-count fixture, polling with a limit, "is thread X blocked for
// reason R" from a snapshot, and an error-code check.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "weft/weft.hpp"

namespace msg_test {

using namespace std::chrono_literals;

// Runs a test once per worker count; GetParam() is the count.
class Workers : public ::testing::TestWithParam<unsigned> {
 protected:
  weft::options opts() const {
    weft::options o;
    o.workers = GetParam();
    return o;
  }
};

inline std::string worker_name(const ::testing::TestParamInfo<unsigned>& info) {
  return "w" + std::to_string(info.param);
}

#define MSG_WORKER_COUNTS(suite) \
  INSTANTIATE_TEST_SUITE_P(Workers, suite, ::testing::Values(1u, 2u, 4u), ::msg_test::worker_name)

// Polls pred until it holds; `limit` only bounds a failing test.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    weft::this_thread::sleep_for(100us);
  }
  return true;
}

// True once thread id (of the caller's runtime) is blocked for reason r.
inline bool blocked_on(weft::thread_id id, weft::wait_reason r) {
  return eventually([&] {
    for (const auto& i : weft::snapshot())
      if (i.id == id) return i.state == weft::thread_state::blocked && i.waiting_for == r;
    return false;
  });
}

// Expects `stmt` to throw weft::error with code `want`.
#define MSG_EXPECT_ERROR(stmt, want)                                                \
  do {                                                                              \
    try {                                                                           \
      stmt;                                                                         \
      ADD_FAILURE() << #stmt " did not throw";                                      \
    } catch (const weft::error& e_) {                                               \
      EXPECT_EQ(e_.code(), weft::make_error_code(want)) << #stmt ": " << e_.what(); \
    }                                                                               \
  } while (0)

}  // namespace msg_test
