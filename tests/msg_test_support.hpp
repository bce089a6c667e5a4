// Helpers for the messaging tests (channel, select, mailbox, pipe): the
// shared ones of test_support.hpp under the names these tests use.
#pragma once

#include "test_support.hpp"

namespace msg_test {

using namespace std::chrono_literals;
using Workers = weft_test::WorkerCount;
using weft_test::eventually;
using weft_test::worker_name;

#define MSG_WORKER_COUNTS(suite) WEFT_WORKER_COUNTS(suite)
#define MSG_EXPECT_ERROR(stmt, want) EXPECT_WEFT_ERROR(stmt, want)

using weft_test::blocked_on;

}  // namespace msg_test
