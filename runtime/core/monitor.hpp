// Layer 3: the monitor, a kernel thread per runtime that watches the
// workers from outside (Go's sysmon; Seastar's stall detector).
//
// What it watches. Every switch already stores the switch time in the
// worker's burst-start word, with bit 0 set when a green thread runs and
// clear in the scheduler context (worker::mark_burst_start); so a worker
// whose word is odd and old has been running one green thread (or one
// foreign blocking call inside it) since then. The hot path pays nothing
// extra: the monitor only reads that word.
//
// Stall report (options::stall_threshold). A green thread that has run
// longer than the threshold without a switch is reported once per stall,
// as a warning through the log hook (base/log.hpp), with its id, name and
// where it is:
//   - asleep in the kernel (a blocking call weft does not own: /proc says
//     the kernel thread is not running): the system call and the
//     instruction that made it, from /proc/self/task/<tid>/syscall. No
//     signal: it would cut short calls that the kernel never restarts
//     (nanosleep, poll, epoll_wait return EINTR whatever SA_RESTART says);
//   - computing: the monitor signals the worker's kernel thread
//     (options::stall_signal), whose handler copies the running thread's
//     id, name and a backtrace taken in the act into a slot; the monitor
//     formats it outside the handler. A thread that does not take the
//     signal in time (under TSan, signals wait for the next libc call) is
//     reported without its backtrace.
// The check and the signal are not atomic: a thread that enters a system
// call in the microseconds between them gets the signal there (SA_RESTART
// restarts most calls; docs/api.md names the rest). Reports are
// rate-limited: at most report_burst per report_window, the rest counted
// and mentioned in the next one.
//
// Hand-off (options::handoff_threshold; Go's sysmon retake and handoffp).
// A worker whose word is odd and older than the threshold, and whose kernel
// thread /proc says is asleep in the kernel at two scans in a row (one look
// could catch a computing thread in a moment's wait on a lock), is stuck in a blocking call
// weft does not own (read() on a pipe, sleep(), a std::mutex held
// elsewhere). The monitor makes it dormant and a spare active
// (runtime_impl::activate_spare): a dormant worker that waits in its
// scheduler context, else a new one, up to options.max_spare_workers. The
// spare steals the stuck worker's ready threads, so they wait about the
// threshold, not the whole call. When the call returns, its thread runs on
// to its next switch (briefly one thread more than options.workers run),
// then the worker rests as a spare (worker_loop.hpp, rest). What does not
// move: the stuck worker's timers, I/O completions and pinned threads,
// which wait for its call to return (its io_uring ring has a single
// issuer: only that kernel thread may enter it).
//
// Later duties (preemption, deadlock checks) belong here too: they watch
// the same word.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "weft/thread_info.hpp"

namespace weft::detail {

class runtime_impl;
class worker;

class monitor {
 public:
  // Starts the monitor thread; a zero threshold turns that duty off. Throws
  // std::system_error if the thread cannot start.
  monitor(runtime_impl& rt, std::chrono::nanoseconds stall_threshold, int signal,
          std::chrono::nanoseconds handoff_threshold);
  ~monitor();  // stops and joins the thread
  monitor(const monitor&) = delete;
  monitor& operator=(const monitor&) = delete;

  // True if sig may carry stall reports: catchable, and not a fault signal.
  static bool signal_usable(int sig) noexcept;

  // The signal handler's part, on worker w's own kernel thread, pc the
  // interrupted instruction: fills the slot and returns true if the monitor
  // asked this worker. Async-signal-safe except for the first backtrace()
  // of the process, which the constructor does up front.
  bool capture(worker& w, void* pc) noexcept;

 private:
  static constexpr int max_frames = 48;
  static constexpr int report_burst = 8;
  static constexpr std::int64_t report_window_ns = 10'000'000'000;

  // The slot the signal handler fills. target: the worker asked (>= 0),
  // idle (-1), or being written by the handler (-2).
  struct slot {
    std::atomic<int> target{-1};
    std::atomic<bool> filled{false};
    std::uint64_t since = 0;  // the stall the handler saw (the burst-start word)
    thread_id id = 0;
    bool running_thread = false;
    char name[64] = {};
    void* frames[max_frames] = {};
    int depth = 0;
    int first = 0;  // frames[first] is the interrupted instruction
  };

  void run();
  bool scan();  // true if some worker runs a green thread
  void sleep_while_parked();
  void check_stall(unsigned index, std::uint64_t since, std::uint64_t now);
  void check_handoff(unsigned index, std::uint64_t since, std::uint64_t now);
  // The state letter /proc gives the kernel thread of worker index ('R'
  // running, 'S'/'D' asleep in the kernel), 0 if unknown.
  char kernel_state(unsigned index) const;
  void report(unsigned index, std::uint64_t since, std::int64_t ran_ns);
  // Fills `where` if worker index's kernel thread sleeps in the kernel.
  bool asleep_in_kernel(unsigned index, std::string& where) const;
  bool ask_for_backtrace(unsigned index);
  std::string headline(unsigned index, bool named, std::int64_t ran_ns);

  runtime_impl& rt_;
  const std::int64_t threshold_ns_;  // stall report; 0: off
  const int signal_;
  const std::int64_t handoff_ns_;    // 0: off
  std::vector<std::uint64_t> reported_;  // per worker: the stall already reported
  std::vector<std::uint64_t> handed_;    // per worker: the stall already handed off
  std::vector<std::uint64_t> asleep_seen_;  // per worker: the burst last seen asleep in the kernel
  slot slot_;
  std::int64_t window_start_ = 0;
  int window_reports_ = 0;
  unsigned suppressed_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace weft::detail
