#include "policy/registry.hpp"

#include <string>

#include "policy/fifo.hpp"
#include "weft/error.hpp"

namespace weft::detail {

std::unique_ptr<policy> make_policy(const options& opts) {
  switch (opts.policy) {
    case policy_kind::priority:
    case policy_kind::aging: return make_priority_policy(opts);
    case policy_kind::fifo:
    case policy_kind::fcfs: return std::make_unique<fifo_policy>();
    case policy_kind::sjf: return make_sjf_policy(opts);
    case policy_kind::hrrn: return make_hrrn_policy(opts);
  }
  throw error(errc::invalid_argument,
              "options.policy: unknown policy " + std::to_string(static_cast<int>(opts.policy)));
}

}  // namespace weft::detail
