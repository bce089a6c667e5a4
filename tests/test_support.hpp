// Helpers shared by the test files: the worker-count fixture (marl-style),
// polling with a deadline, and snapshot look-ups.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "weft/weft.hpp"

namespace weft_test {

using namespace std::chrono_literals;

// Under TSan a spawn costs ~1 ms (every green thread is a TSan fiber with its
// own shadow state), so tests that spawn thousands of threads divide their
// counts by this to stay within seconds there.
#if defined(__SANITIZE_THREAD__)
inline constexpr int spawn_scale_down = 10;
#else
inline constexpr int spawn_scale_down = 1;
#endif

// The latest a timed call may return after its deadline in a test. Only a
// broken timer crosses it: a loaded CI machine (sanitizers, other jobs on both
// cores) delays a wake-up by hundreds of milliseconds, so a "prompt" bound is
// a guess that fails under load. Wake-up latency is measured in bench/.
inline constexpr std::chrono::seconds absurdly_late{10};

// Runs a test once per worker count; GetParam() is the count.
class WorkerCount : public ::testing::TestWithParam<unsigned> {
 protected:
  weft::options opts() const {
    weft::options o;
    o.workers = GetParam();
    return o;
  }
};

// Names parameterized instances "w1", "w2", "w4".
inline std::string worker_name(const ::testing::TestParamInfo<unsigned>& info) {
  return "w" + std::to_string(info.param);
}

// Instantiates a WorkerCount-derived suite over 1, 2 and 4 workers.
#define WEFT_WORKER_COUNTS(suite) \
  INSTANTIATE_TEST_SUITE_P(Workers, suite, ::testing::Values(1u, 2u, 4u), ::weft_test::worker_name)

// Polls pred until it holds or `limit` passed; works on green and foreign
// threads (weft's sleep parks a green thread and sleeps a foreign one). The
// limit only bounds a failing test: passing tests return as soon as pred holds.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = absurdly_late) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    weft::this_thread::sleep_for(200us);
  }
  return true;
}

// The row of `id` in a snapshot, if present.
inline std::optional<weft::thread_info> find_info(const std::vector<weft::thread_info>& snap, weft::thread_id id) {
  for (const auto& i : snap)
    if (i.id == id) return i;
  return std::nullopt;
}

// The row of `id` in a fresh snapshot of the caller's runtime.
inline std::optional<weft::thread_info> info_of(weft::thread_id id) { return find_info(weft::snapshot(), id); }

// The state of `id` now; `terminated` stands for "no longer in the registry" too.
inline weft::thread_state state_of(weft::thread_id id) {
  auto i = info_of(id);
  return i ? i->state : weft::thread_state::terminated;
}

// Waits until thread `id` reaches state s.
inline bool reaches(weft::thread_id id, weft::thread_state s) {
  return eventually([&] { return state_of(id) == s; });
}

// True once thread `id` (of the caller's runtime) is blocked for reason r:
// past the point where a wait can be ended by the call under test.
inline bool blocked_on(weft::thread_id id, weft::wait_reason r) {
  return eventually([&] {
    auto i = info_of(id);
    return i && i->state == weft::thread_state::blocked && i->waiting_for == r;
  });
}

// Expects `stmt` to throw weft::error with code `expected_errc`.
#define EXPECT_WEFT_ERROR(stmt, expected_errc)                                                 \
  do {                                                                                \
    try {                                                                             \
      stmt;                                                                           \
      ADD_FAILURE() << #stmt " did not throw";                                        \
    } catch (const weft::error& e_) {                                                 \
      EXPECT_EQ(e_.code(), weft::make_error_code(expected_errc)) << #stmt ": " << e_.what();   \
    } catch (const std::exception& e_) {                                              \
      ADD_FAILURE() << #stmt " threw a non-weft exception: " << e_.what();            \
    }                                                                                 \
  } while (0)

}  // namespace weft_test
