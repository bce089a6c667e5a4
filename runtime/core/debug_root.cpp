// weft_debug_root; see debug_root.hpp.
#include "core/debug_root.hpp"

#include <cstddef>
#include <mutex>

#include "context/context.hpp"
#include "context/saved_regs.hpp"
#include "core/run_stats.hpp"
#include "core/tcb.hpp"
#include "core/worker.hpp"
#include "weft/thread_info.hpp"

extern "C" {
// Zero until the static initializer below: a core file taken before it shows
// magic 0, and the script says weft has not started.
__attribute__((used, visibility("default"))) weft_debug_root_t weft_debug_root;
}

namespace weft::detail {
namespace {

constexpr std::uint32_t state_count = static_cast<std::uint32_t>(thread_state::suspended_blocked) + 1;
constexpr std::uint32_t reason_count = static_cast<std::uint32_t>(wait_reason::suspended) + 1;
const char* g_state_names[state_count];
const char* g_reason_names[reason_count];
std::mutex g_mu;

// offsetof on the TCB and its extension: neither is standard-layout (atomics,
// std::string members), which GCC and Clang still lay out as plain structs
// (no virtual bases), so the offsets are exact.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
[[maybe_unused]] const bool g_filled = [] {
  weft_debug_root_t& r = weft_debug_root;
  for (std::uint32_t i = 0; i < state_count; ++i) g_state_names[i] = to_string(static_cast<thread_state>(i));
  for (std::uint32_t i = 0; i < reason_count; ++i) g_reason_names[i] = to_string(static_cast<wait_reason>(i));
  r.version = 1;
  r.backend = context_backend_name();
  r.state_names = g_state_names;
  r.state_count = state_count;
  r.reason_names = g_reason_names;
  r.reason_count = reason_count;
  auto off = [](std::size_t o) { return static_cast<std::int32_t>(o); };
  r.field[wdf_tcb_sp] = off(offsetof(tcb, ctx) + offsetof(context, sp));
  r.field[wdf_tcb_state] = off(offsetof(tcb, state));
  r.field[wdf_tcb_id] = off(offsetof(tcb, id));
  r.field[wdf_tcb_parent] = off(offsetof(tcb, parent));
  r.field[wdf_tcb_first_child] = off(offsetof(tcb, first_child));
  r.field[wdf_tcb_sib_next] = off(offsetof(tcb, sib_next));
  r.field[wdf_tcb_reason] = off(offsetof(tcb, reason));
  r.field[wdf_tcb_ext] = off(offsetof(tcb, ext));
  r.field[wdf_tcb_stats] = off(offsetof(tcb, stats));
  r.field[wdf_tcb_last_worker] = off(offsetof(tcb, last_worker));
  r.field[wdf_tcb_stk_lo] = off(offsetof(tcb, stk_lo));
  r.field[wdf_tcb_stk_size] = off(offsetof(tcb, stk_size));
  r.field[wdf_worker_index] = off(offsetof(worker, index));
  r.field[wdf_ext_name] = off(offsetof(tcb_ext, name));
  r.field[wdf_stats_since] = off(offsetof(run_stats, since));
  r.field[wdf_stats_wait_on] = off(offsetof(run_stats, wait_on));
  int pc, fp, size, callee[11];
  saved_context_layout(pc, fp, size, callee);
  r.field[wdf_frame_pc] = pc;
  r.field[wdf_frame_fp] = fp;
  r.field[wdf_frame_size] = size;
  for (int i = 0; i < 11; ++i) r.field[wdf_frame_callee0 + i] = callee[i];
  // Last: a reader that sees the magic sees the rest.
  __atomic_store_n(&r.magic, 0x54464557u, __ATOMIC_RELEASE);
  return true;
}();
#pragma GCC diagnostic pop

}  // namespace

void debug_register(weft_debug_runtime& node) noexcept {
  std::lock_guard lk(g_mu);
  node.next = weft_debug_root.runtimes;
  weft_debug_root.runtimes = &node;
}

void debug_unregister(weft_debug_runtime& node) noexcept {
  std::lock_guard lk(g_mu);
  for (weft_debug_runtime** p = &weft_debug_root.runtimes; *p; p = &(*p)->next)
    if (*p == &node) {
      *p = node.next;
      return;
    }
}

}  // namespace weft::detail
