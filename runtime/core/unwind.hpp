// Layer 3: the backtrace of a suspended green thread, for the thread dump.
//
// Unwinding the live stack of a parked thread is not safe: a waker on
// another worker may resume it halfway through, and the unwinder would then
// follow pointers the thread is overwriting. So the dump copies the used
// part of the stack while the thread is provably still suspended
// (core/dump.cpp) and unwinds the copy: libunwind's remote interface, with
// an address space whose memory reads come from the copy for stack
// addresses and, for anything else, only from the mapped segments of loaded
// modules (their unwind tables). A garbage pointer ends the trace instead
// of faulting.
//
// Optional: without libunwind (WEFT_HAVE_LIBUNWIND=0, e.g. the aarch64
// cross build) every call reports why there is no trace.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "context/saved_regs.hpp"

namespace weft::detail {

// The used part of a suspended thread's stack: bytes[0] is at address lo.
struct stack_copy {
  std::uint64_t lo = 0;
  std::vector<unsigned char> bytes;
};

// Names already looked up, by pc, for one dump: finding a name reads the
// module's ELF symbol table, and every parked thread shares its innermost frames.
struct symbol_cache;
struct symbol_cache_deleter {
  void operator()(symbol_cache* c) const noexcept;
};
using symbol_cache_ptr = std::unique_ptr<symbol_cache, symbol_cache_deleter>;
symbol_cache_ptr make_symbol_cache();

// One line per frame ("#0  0x... in fn(args)+0x1c (module+0x1234)"), at most
// max_frames; on failure an empty vector and `why` says what is missing.
std::vector<std::string> unwind_suspended(const saved_regs& regs, const stack_copy& stack, int max_frames,
                                          symbol_cache& names, std::string& why);

// False when built without libunwind; `why` is the sentence the dump prints.
bool unwinder_available(const char** why) noexcept;

}  // namespace weft::detail
