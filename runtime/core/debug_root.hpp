// Layer 3: weft_debug_root, the one symbol a debugger needs to find every
// green thread of a live process or a core file (scripts/gdb/weft.py).
//
// A debugger cannot call into the process (a core file has no process), and
// weft's own types may lack debug information (a release libweft.a), so the
// root describes the memory itself: a list of runtimes, each pointing at the
// head of its family tree (every TCB hangs below it, core/runtime_impl.hpp),
// the byte offsets of the TCB fields a table needs, the names of states and
// wait reasons, and the layout of a suspended context's saved frame
// (context/saved_regs.hpp). Plain integers and pointers only, in a fixed
// order: version says which; the script refuses a version it does not know.
#pragma once

#include <cstdint>

namespace weft::detail {
struct tcb;
}

extern "C" {

// One registered runtime; the list is changed under a lock and read only
// by debuggers, which stop the process first.
struct weft_debug_runtime {
  weft_debug_runtime* next;
  weft::detail::tcb* const* threads;  // the virtual root's first child
  std::uint64_t workers;
};

// Indexes of weft_debug_root_t::field: byte offsets (-1: absent).
enum weft_debug_field : std::uint32_t {
  wdf_tcb_sp, wdf_tcb_state, wdf_tcb_id, wdf_tcb_parent, wdf_tcb_first_child, wdf_tcb_sib_next,
  wdf_tcb_reason, wdf_tcb_ext, wdf_tcb_stats, wdf_tcb_last_worker, wdf_tcb_stk_lo, wdf_tcb_stk_size,
  wdf_worker_index, wdf_ext_name,  // a std::string: libstdc++'s pointer, then its length
  wdf_stats_since, wdf_stats_wait_on,
  // The saved frame (context/saved_regs.hpp): pc, fp, frame size, callee[0..10].
  wdf_frame_pc, wdf_frame_fp, wdf_frame_size, wdf_frame_callee0,
  wdf_count = wdf_frame_callee0 + 11
};

struct weft_debug_root_t {
  std::uint32_t magic;    // 'WEFT' little-endian: 0x54464557
  std::uint32_t version;  // 1
  weft_debug_runtime* runtimes;
  const char* backend;    // context_backend_name()
  const char* const* state_names;   // by thread_state value
  std::uint32_t state_count;
  std::uint32_t reason_count;
  const char* const* reason_names;  // by wait_reason value
  std::int32_t field[wdf_count];
};

extern weft_debug_root_t weft_debug_root;

}  // extern "C"

namespace weft::detail {

// Adds a runtime to the list (at start) or takes it out (at its end).
void debug_register(weft_debug_runtime& node) noexcept;
void debug_unregister(weft_debug_runtime& node) noexcept;

}  // namespace weft::detail
