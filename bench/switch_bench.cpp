// BM_Switch_Raw: the floor under every other number, a bare context switch
// with no scheduler around it. The benchmark thread and one context on a
// private stack bounce control back and forth; nothing else runs.
//
// BM_Switch_Raw goes through weft's context layer (runtime/context), i.e.
// whichever backend weft was configured with (its label and the JSON context
// "weft_context_backend" say which). BM_Switch_Raw_BoostContext calls
// Boost.Context's jump_fcontext directly, so one run shows both backends.
#include <cstdint>
#include <memory>

#include <benchmark/benchmark.h>
#include <boost/context/detail/fcontext.hpp>

#include "common.hpp"
#include "context/context.hpp"

namespace {

namespace bc = boost::context::detail;

// Round trips per benchmark iteration: enough that the loop's own cost
// (about a nanosecond per iteration) vanishes against 2000 switches.
constexpr int round_trips = 1000;

struct bounce_pair {
  weft::detail::context caller;
  weft::detail::context bouncer;
};

[[noreturn]] void bounce(void* arg) {
  auto* p = static_cast<bounce_pair*>(arg);
  for (;;) weft::detail::context_switch(p->bouncer, p->caller);
}

// ns_per_switch is wall time; cpu_ns_per_switch is CPU time, which stays
// honest when other processes take the core away mid-loop.
void report_switches(benchmark::State& state, std::int64_t elapsed_ns, double cpu_s) {
  auto switches = static_cast<double>(state.iterations() * round_trips * 2);
  state.SetItemsProcessed(state.iterations() * round_trips * 2);
  state.counters["ns_per_switch"] = static_cast<double>(elapsed_ns) / switches;
  state.counters["cpu_ns_per_switch"] = cpu_s * 1e9 / switches;
}

void BM_Switch_Raw(benchmark::State& state) {
  auto stack = std::make_unique<char[]>(weft_bench::stack_size);
  bounce_pair p;
  weft::detail::context_make(p.bouncer, stack.get() + weft_bench::stack_size, weft_bench::stack_size, &bounce, &p);
  weft::detail::context_switch(p.caller, p.bouncer);  // first entry: the bouncer starts and comes straight back
  std::int64_t t0 = weft_bench::wall_ns();
  double cpu0 = weft_bench::process_cpu_seconds();
  for (auto _ : state)
    for (int i = 0; i < round_trips; ++i) weft::detail::context_switch(p.caller, p.bouncer);
  report_switches(state, weft_bench::wall_ns() - t0, weft_bench::process_cpu_seconds() - cpu0);
  state.SetLabel(weft::detail::context_backend_name());
  // The bouncer stays suspended forever; its stack holds nothing to destroy.
}
BENCHMARK(BM_Switch_Raw);

void bounce_fcontext(bc::transfer_t t) {
  for (;;) t = bc::jump_fcontext(t.fctx, nullptr);
}

void BM_Switch_Raw_BoostContext(benchmark::State& state) {
  auto stack = std::make_unique<char[]>(weft_bench::stack_size);
  bc::fcontext_t bouncer = bc::make_fcontext(stack.get() + weft_bench::stack_size, weft_bench::stack_size,
                                             &bounce_fcontext);
  bouncer = bc::jump_fcontext(bouncer, nullptr).fctx;
  std::int64_t t0 = weft_bench::wall_ns();
  double cpu0 = weft_bench::process_cpu_seconds();
  for (auto _ : state)
    for (int i = 0; i < round_trips; ++i) bouncer = bc::jump_fcontext(bouncer, nullptr).fctx;
  report_switches(state, weft_bench::wall_ns() - t0, weft_bench::process_cpu_seconds() - cpu0);
  state.SetLabel("boost-fcontext (direct)");
}
BENCHMARK(BM_Switch_Raw_BoostContext);

}  // namespace
