// BM_Switch_Raw: the floor under every other number, a bare context switch
// with no scheduler around it. Two contexts on private stacks bounce control
// back and forth; nothing else runs.
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

// Two contexts, A and B, bounce control between them from one call site,
// the shape of a scheduler, where every switch comes from the same switch
// routine. The shape matters to a switch that ends in `ret` (weft's asm):
// the return predictor then guesses right, as it does in the scheduler.
// The benchmark thread hands A a batch of round trips and waits for it.
struct duo {
  weft::detail::context main, a, b;
  int left = 0;  // round trips A still has to make in this batch
};
struct side {
  duo* d;
  weft::detail::context* me;
  weft::detail::context* other;
  bool leader;  // A: counts round trips, returns to main when done
};

[[noreturn]] void player(void* arg, void*) {
  auto* s = static_cast<side*>(arg);
  for (;;) {
    if (s->leader && s->d->left-- == 0) weft::detail::context_switch(*s->me, s->d->main, nullptr);
    weft::detail::context_switch(*s->me, *s->other, nullptr);
  }
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
  using weft_bench::stack_size;
  auto stack_a = std::make_unique<char[]>(stack_size);
  auto stack_b = std::make_unique<char[]>(stack_size);
  duo d;
  side a{&d, &d.a, &d.b, true}, b{&d, &d.b, &d.a, false};
  weft::detail::context_make(d.a, stack_a.get() + stack_size, stack_size, &player, &a);
  weft::detail::context_make(d.b, stack_b.get() + stack_size, stack_size, &player, &b);
  d.left = 1;
  weft::detail::context_switch(d.main, d.a, nullptr);  // starts both players: one round trip
  std::int64_t t0 = weft_bench::wall_ns();
  double cpu0 = weft_bench::process_cpu_seconds();
  for (auto _ : state) {
    d.left = round_trips;
    weft::detail::context_switch(d.main, d.a, nullptr);
  }
  report_switches(state, weft_bench::wall_ns() - t0, weft_bench::process_cpu_seconds() - cpu0);
  state.SetLabel(weft::detail::context_backend_name());
  // Both players stay suspended forever; their stacks hold nothing to destroy.
}
BENCHMARK(BM_Switch_Raw);

// The same with the benchmark thread as one side and a bouncer as the
// other: two different call sites. Boost's jump_fcontext ends in an indirect
// jump and does not care; weft's `ret` mispredicts on every switch here,
// which is the price of predicting right on the scheduler's paths (every
// yield, park and wake returns up the same chain in both threads; an
// indirect jump instead leaves the return predictor one entry off, and
// every later return in the resumed thread mispredicts: a yield cost 35 ns
// that way against 15 ns with `ret`).
struct bounce_pair {
  weft::detail::context caller;
  weft::detail::context bouncer;
};

[[noreturn]] void bounce(void* arg, void*) {
  auto* p = static_cast<bounce_pair*>(arg);
  for (;;) weft::detail::context_switch(p->bouncer, p->caller, nullptr);
}

void BM_Switch_Raw_Asymmetric(benchmark::State& state) {
  auto stack = std::make_unique<char[]>(weft_bench::stack_size);
  bounce_pair p;
  weft::detail::context_make(p.bouncer, stack.get() + weft_bench::stack_size, weft_bench::stack_size, &bounce, &p);
  weft::detail::context_switch(p.caller, p.bouncer, nullptr);  // first entry: the bouncer starts and comes straight back
  std::int64_t t0 = weft_bench::wall_ns();
  double cpu0 = weft_bench::process_cpu_seconds();
  for (auto _ : state)
    for (int i = 0; i < round_trips; ++i) weft::detail::context_switch(p.caller, p.bouncer, nullptr);
  report_switches(state, weft_bench::wall_ns() - t0, weft_bench::process_cpu_seconds() - cpu0);
  state.SetLabel(weft::detail::context_backend_name());
}
BENCHMARK(BM_Switch_Raw_Asymmetric);

// Boost.Context called directly, in the scheduler shape: A and B run one
// loop each and jump back to whoever jumped to them.
struct fduo {
  bc::fcontext_t main = nullptr, b = nullptr;
  int left = 0;
};

void fplayer_b(bc::transfer_t t) {
  for (;;) t = bc::jump_fcontext(t.fctx, nullptr);
}

void fplayer_a(bc::transfer_t t) {
  auto* d = static_cast<fduo*>(t.data);
  d->main = t.fctx;
  t = bc::jump_fcontext(d->b, nullptr);  // starts B, which jumps straight back
  for (;;) {
    if (d->left-- == 0) d->main = bc::jump_fcontext(d->main, nullptr).fctx;
    t = bc::jump_fcontext(t.fctx, nullptr);
  }
}

void BM_Switch_Raw_BoostContext(benchmark::State& state) {
  using weft_bench::stack_size;
  auto stack_a = std::make_unique<char[]>(stack_size);
  auto stack_b = std::make_unique<char[]>(stack_size);
  fduo d;
  d.b = bc::make_fcontext(stack_b.get() + stack_size, stack_size, &fplayer_b);
  bc::fcontext_t a = bc::make_fcontext(stack_a.get() + stack_size, stack_size, &fplayer_a);
  d.left = 1;
  a = bc::jump_fcontext(a, &d).fctx;
  std::int64_t t0 = weft_bench::wall_ns();
  double cpu0 = weft_bench::process_cpu_seconds();
  for (auto _ : state) {
    d.left = round_trips;
    a = bc::jump_fcontext(a, nullptr).fctx;
  }
  report_switches(state, weft_bench::wall_ns() - t0, weft_bench::process_cpu_seconds() - cpu0);
  state.SetLabel("boost-fcontext (direct)");
}
BENCHMARK(BM_Switch_Raw_BoostContext);

}  // namespace
