// SJF (shortest job first, non-preemptive): the ready thread with the
// shortest predicted next CPU burst runs first; equal predictions in
// arrival order. The prediction is the exponential average of the thread's
// bursts (policy/burst_order.hpp), so a thread that computes long between
// blocking calls yields its place to threads that block often -- the OS
// notes' reason to prefer I/O-bound work. Like every policy here it decides
// only at a switch: a running thread keeps its worker until it yields,
// blocks or ends.
#include <memory>

#include "policy/burst_order.hpp"
#include "policy/registry.hpp"

namespace weft::detail {
namespace {

struct shorter_burst {
  bool operator()(const burst_entry& a, const burst_entry& b, std::uint64_t) const noexcept {
    return a.burst != b.burst ? a.burst < b.burst : a.seq < b.seq;
  }
};

}  // namespace

std::unique_ptr<policy> make_sjf_policy(const options&) { return std::make_unique<burst_policy<shorter_burst>>(); }

}  // namespace weft::detail
