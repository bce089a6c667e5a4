// The FIFO ring's instantiation of the worker's paths (policy/fifo.hpp).
#include "policy/fifo.hpp"

#include "core/worker_loop.hpp"

namespace weft::detail {

const worker_ops& fifo_policy::loop() const noexcept { return worker_loop<fifo_policy>::ops; }

}  // namespace weft::detail
