// Layer 1: switching stacks.
//
// A context is a saved stack pointer; everything else a suspended execution
// needs lives on its own stack. Two backends implement the same three calls:
// hand-written assembly (switch_<arch>.S, the default) and Boost.Context's
// fcontext (WEFT_CONTEXT_BACKEND=boost). Nothing above this layer knows which
// one is compiled in: the choice is made at configure time.
#pragma once

#include <cstddef>

namespace weft::detail {

struct context {
  void* sp = nullptr;
#ifdef WEFT_CONTEXT_FCONTEXT
  // fcontext starts a fresh context through a fixed entry that needs these;
  // the asm backend keeps them in the initial frame instead.
  void (*entry)(void*, void*) = nullptr;
  void* arg = nullptr;
#endif
};

// The first code a context runs: its own argument and the value the first
// switch to it passed. It must never return.
using context_entry = void (*)(void* arg, void* pass);

// Prepares ctx so that switching to it runs entry(arg, pass) on the stack
// whose highest address is stack_hi.
void context_make(context& ctx, void* stack_hi, std::size_t size, context_entry entry, void* arg) noexcept;

// Saves the running execution into from and resumes to, handing `to` the
// value `pass`. Returns, once something resumes `from`, the value that
// resumer passed. The scheduler passes the resuming worker this way, so a
// green thread learns where it now runs from a register, not from TLS that
// the compiler might have cached across the switch (see core/worker_loop.hpp).
#ifdef WEFT_CONTEXT_FCONTEXT
void* context_switch(context& from, context& to, void* pass) noexcept;
#else
extern "C" void* weft_ctx_switch(void** save_sp, void* load_sp, void* pass) noexcept;
// Inline, so the switch is one call from the scheduler's code: a wrapper's
// extra jump cost ~5 ns per switch on AMD Zen, doubling the switch.
inline void* context_switch(context& from, context& to, void* pass) noexcept {
  return weft_ctx_switch(&from.sp, to.sp, pass);
}
#endif

// Names the compiled-in backend ("asm-x86_64", "asm-aarch64" or "boost-fcontext").
const char* context_backend_name() noexcept;

}  // namespace weft::detail
