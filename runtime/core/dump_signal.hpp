// Layer 3: options::dump_signal, the thread dump on a signal (SIGQUIT in
// the examples, as the JVM and Go do).
//
// A signal handler can do almost nothing safely, and a dump takes locks,
// allocates and formats. So the handler only writes a byte into each
// listening runtime's pipe (write(2) is async-signal-safe), and a small
// thread per runtime, asleep in read(2), prints the dump to stderr. The
// handler is process-wide: runtimes sharing a signal share it, counted, and
// the action it replaced comes back with the last of them.
#pragma once

#include <thread>

namespace weft::detail {

class runtime_impl;

class dump_listener {
 public:
  // Installs the handler for sig and starts the thread; throws
  // std::system_error if the pipe or the thread cannot be made, and
  // weft::error(resource_exhausted) past 64 runtimes listening at once.
  dump_listener(runtime_impl& rt, int sig);
  ~dump_listener();  // stops the thread; the last listener of sig restores its old action
  dump_listener(const dump_listener&) = delete;
  dump_listener& operator=(const dump_listener&) = delete;

 private:
  void run();
  runtime_impl& rt_;
  const int sig_;
  int slot_ = -1;
  int read_fd_ = -1, write_fd_ = -1;
  std::thread thread_;
};

}  // namespace weft::detail
