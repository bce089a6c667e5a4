// The policies a runtime can be built with (options::policy).
#pragma once

#include <memory>

#include "core/policy.hpp"
#include "weft/options.hpp"

namespace weft::detail {

// One worker's policy for options::policy (core/policy.hpp's factory).
std::unique_ptr<policy> make_policy(const options& opts);

// Each policy's own factory.
std::unique_ptr<policy> make_priority_policy(const options& opts);  // static priority, or aging
std::unique_ptr<policy> make_sjf_policy(const options& opts);
std::unique_ptr<policy> make_hrrn_policy(const options& opts);

}  // namespace weft::detail
