// weft_bench's entry point: Google Benchmark's usual main, plus the facts a
// reader of the JSON needs to interpret it (which context switch weft was
// built with, the kernel's thread and mapping limits).
#include <fstream>
#include <string>
#include <thread>

#include <benchmark/benchmark.h>

#include "weft/runtime.hpp"

namespace {

std::string read_first_line(const char* path) {
  std::ifstream f(path);
  std::string s;
  if (!std::getline(f, s)) return "unknown";
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("weft_context_backend", weft::runtime::context_backend());
  benchmark::AddCustomContext("hardware_concurrency", std::to_string(std::thread::hardware_concurrency()));
  benchmark::AddCustomContext("vm_max_map_count", read_first_line("/proc/sys/vm/max_map_count"));
  benchmark::AddCustomContext("kernel_pid_max", read_first_line("/proc/sys/kernel/pid_max"));
  benchmark::AddCustomContext("kernel_release", read_first_line("/proc/sys/kernel/osrelease"));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
