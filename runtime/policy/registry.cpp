#include "policy/registry.hpp"

#include "policy/fifo.hpp"

namespace weft::detail {

std::unique_ptr<policy> make_priority_policy(const options& opts);

std::unique_ptr<policy> make_policy(const options& opts) {
  if (opts.policy == policy_kind::priority) return make_priority_policy(opts);
  return std::make_unique<fifo_policy>();
}

}  // namespace weft::detail
