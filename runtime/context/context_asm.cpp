// Hand-written backend: see switch_x86_64.S / switch_aarch64.S for the frame
// layout that context_make reproduces on a fresh stack.
#include "context/context.hpp"

#include <cstdint>
#include <cstring>

extern "C" void weft_ctx_trampoline() noexcept;

namespace weft::detail {

void context_make(context& ctx, void* stack_hi, std::size_t, context_entry entry, void* arg) noexcept {
  auto top = reinterpret_cast<std::uintptr_t>(stack_hi) & ~std::uintptr_t{15};
#if defined(__x86_64__)
  // After `ret` pops the trampoline address, rsp must be 16-byte aligned so
  // that the trampoline's `call` gives the entry the ABI's alignment.
  auto* frame = reinterpret_cast<std::uint64_t*>(top - 16 - 72);
  std::uint16_t fpcw;
  std::uint32_t mxcsr;
  asm volatile("fnstcw %0" : "=m"(fpcw));
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  std::memset(frame, 0, 72);
  std::memcpy(&frame[0], &fpcw, sizeof fpcw);
  std::memcpy(&frame[1], &mxcsr, sizeof mxcsr);
  frame[2] = 0;                                               // r15
  frame[3] = 0;                                               // r14
  frame[4] = reinterpret_cast<std::uint64_t>(entry);          // r13
  frame[5] = reinterpret_cast<std::uint64_t>(arg);            // r12
  frame[6] = 0;                                               // rbx
  frame[7] = 0;                                               // rbp
  frame[8] = reinterpret_cast<std::uint64_t>(&weft_ctx_trampoline);
  ctx.sp = frame;
#elif defined(__aarch64__)
  auto* frame = reinterpret_cast<std::uint64_t*>(top - 176);
  std::memset(frame, 0, 176);
  std::uint64_t fpcr;
  asm volatile("mrs %0, fpcr" : "=r"(fpcr));
  frame[0] = reinterpret_cast<std::uint64_t>(arg);            // x19
  frame[1] = reinterpret_cast<std::uint64_t>(entry);          // x20
  frame[11] = reinterpret_cast<std::uint64_t>(&weft_ctx_trampoline);  // x30
  frame[20] = fpcr;
  ctx.sp = frame;
#else
#error "weft: no hand-written context switch for this architecture; configure with -DWEFT_CONTEXT_BACKEND=boost"
#endif
}

const char* context_backend_name() noexcept {
#if defined(__x86_64__)
  return "asm-x86_64";
#else
  return "asm-aarch64";
#endif
}

}  // namespace weft::detail
