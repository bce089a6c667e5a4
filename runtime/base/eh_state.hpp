// Layer 0: the C++ runtime's exception-handling state of a kernel thread,
// which weft switches with each green thread.
//
// Why. The C++ runtime (libsupc++, libc++abi) keeps per kernel thread the
// chain of exceptions being handled (catch blocks in progress) and the
// count of exceptions thrown and not yet caught (std::uncaught_exceptions).
// A green thread that parks inside a catch block, or while unwinding (a
// destructor that joins), would leave its entries there: the next green
// thread on that worker would see them (its own catch would then end the
// wrong exception: ASan reported it as a leak in the http_server example),
// and the parked thread would resume on some worker without them. So every
// context keeps its own copy across a switch: worker_loop::switch_to saves
// the two words in its frame, on the switching context's own stack, and
// writes them back into the worker it resumes on; a new thread starts with
// none (thread_entry). folly's fibers do the same.
//
// The layout is the Itanium C++ ABI's __cxa_eh_globals, shared by x86-64
// and aarch64 (ARM's 32-bit EHABI adds a field; weft does not target it).
#pragma once

#include <cxxabi.h>

namespace weft::detail {

struct eh_state {
  void* caught = nullptr;     // __cxa_eh_globals::caughtExceptions
  unsigned int uncaught = 0;  // __cxa_eh_globals::uncaughtExceptions
};

// The calling kernel thread's state (its address never changes for that thread).
inline eh_state* current_eh_state() noexcept { return reinterpret_cast<eh_state*>(abi::__cxa_get_globals()); }

}  // namespace weft::detail
