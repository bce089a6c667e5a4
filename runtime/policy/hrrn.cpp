// HRRN (highest response ratio next, non-preemptive): the ready thread with
// the highest (waiting + predicted burst) / predicted burst runs first. Short
// threads are favoured as under SJF, but a long thread's ratio grows while it
// waits, so it cannot starve (the OS notes' compromise between FCFS and
// SJF). The ratio changes with time, so it is computed for every queued
// thread at each pick (policy/burst_order.hpp); waiting counts from when the
// thread was last queued. Decides only at a switch, like every policy here.
#include <memory>

#include "policy/burst_order.hpp"
#include "policy/registry.hpp"

namespace weft::detail {
namespace {

__extension__ typedef unsigned __int128 u128;  // GCC and Clang on 64-bit targets

struct higher_ratio {
  // (wa + sa) / sa > (wb + sb) / sb  <=>  (wa + sa) * sb > (wb + sb) * sa, in
  // 128 bits: ticks reach 2^40 within hours and a burst may be as long.
  bool operator()(const burst_entry& a, const burst_entry& b, std::uint64_t now) const noexcept {
    u128 wa = now > a.since ? now - a.since : 0;
    u128 wb = now > b.since ? now - b.since : 0;
    u128 lhs = (wa + a.burst) * b.burst;
    u128 rhs = (wb + b.burst) * a.burst;
    return lhs != rhs ? lhs > rhs : a.seq < b.seq;
  }
};

}  // namespace

std::unique_ptr<policy> make_hrrn_policy(const options&) { return std::make_unique<burst_policy<higher_ratio>>(); }

}  // namespace weft::detail
