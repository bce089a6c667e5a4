#include "policy/registry.hpp"

#include <string>

#include "policy/fifo.hpp"
#include "weft/error.hpp"

namespace weft::detail {

std::unique_ptr<policy> make_policy(const options& opts) {
  switch (opts.policy) {
    case policy_kind::priority: return make_priority_policy(opts);
    case policy_kind::fifo: return std::make_unique<fifo_policy>();
  }
  throw error(errc::invalid_argument,
              "options.policy: unknown policy " + std::to_string(static_cast<int>(opts.policy)));
}

}  // namespace weft::detail
