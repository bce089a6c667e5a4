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
  void (*entry)(void*) = nullptr;
  void* arg = nullptr;
#endif
};

// Prepares ctx so that switching to it runs entry(arg) on the stack whose
// highest address is stack_hi; entry must never return.
void context_make(context& ctx, void* stack_hi, std::size_t size, void (*entry)(void*), void* arg) noexcept;

// Saves the running execution into from and resumes to.
void context_switch(context& from, context& to) noexcept;

// Names the compiled-in backend ("asm-x86_64", "asm-aarch64" or "boost-fcontext").
const char* context_backend_name() noexcept;

}  // namespace weft::detail
