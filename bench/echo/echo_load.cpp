// echo_load: drives an echo server over loopback and reports round trips
// per second and p50/p99 latency (see load.hpp). Built on weft: one green
// thread per connection.
//
//   echo_load --port P [--connections N] [--size BYTES] [--seconds S]
//             [--warmup-ms MS] [--workers N] [--engine io_uring|epoll]
//
// Prints one line: connections=N rps=R p50_us=A p99_us=B failed=F
#include <cstdio>
#include <cstdlib>
#include <string>

#include "load.hpp"

namespace {

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "echo_load: %s\nusage: echo_load --port P [--connections N] [--size BYTES] [--seconds S] "
               "[--warmup-ms MS] [--workers N] [--engine io_uring|epoll]\n",
               why);
  std::exit(2);
}

long number(const std::string& v, long lo, long hi, const char* what) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (*end || n < lo || n > hi) usage(what);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  weft_echo::load_options lo;
  weft::options opts;
  long port = -1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    std::string v = argv[++i];
    if (a == "--port") port = number(v, 1, 65535, "--port must be 1..65535");
    else if (a == "--connections") lo.connections = static_cast<int>(number(v, 1, 100000, "--connections must be 1..100000"));
    else if (a == "--size") lo.message = static_cast<std::size_t>(number(v, 1, 1 << 20, "--size must be 1..1048576"));
    else if (a == "--seconds") lo.measure = std::chrono::seconds(number(v, 1, 3600, "--seconds must be 1..3600"));
    else if (a == "--warmup-ms") lo.warmup = std::chrono::milliseconds(number(v, 0, 60000, "--warmup-ms must be 0..60000"));
    else if (a == "--workers") opts.workers = static_cast<unsigned>(number(v, 1, 1024, "--workers must be 1..1024"));
    else if (a == "--engine") {
      if (v == "io_uring") opts.io = weft::io_engine::io_uring;
      else if (v == "epoll") opts.io = weft::io_engine::epoll;
      else usage("--engine must be io_uring or epoll");
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (port < 0) usage("--port is required");
  lo.server = weft::io::address::loopback(static_cast<std::uint16_t>(port));
  weft_echo::load_result r;
  weft::run(opts, [&] { r = weft_echo::run_load(lo); });
  std::printf("connections=%d rps=%.0f p50_us=%.1f p99_us=%.1f failed=%d\n", lo.connections, r.rps, r.p50_us,
              r.p99_us, r.failed);
  return r.failed == 0 ? 0 : 1;
}
