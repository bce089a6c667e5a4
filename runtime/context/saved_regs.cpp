// Frame layouts of the suspended side of a switch; see saved_regs.hpp. The
// offsets must follow switch_x86_64.S / switch_aarch64.S, and Boost.Context's
// jump_fcontext for the version it was checked against (Boost 1.74, Debian
// 12: the layout changed between Boost versions, so others are refused
// rather than misread). scripts/gdb/weft.py decodes the same frames.
#include "context/saved_regs.hpp"

#ifdef WEFT_CONTEXT_FCONTEXT
#include <boost/version.hpp>
#endif

namespace weft::detail {
namespace {

struct layout {
  int pc, fp, sp_after;  // byte offsets from the saved sp; sp_after: the frame's size
  int callee[11];        // -1: not saved
};

#if defined(__x86_64__) && !defined(WEFT_CONTEXT_FCONTEXT)
//   +16 r15 +24 r14 +32 r13 +40 r12 +48 rbx +56 rbp +64 return address
constexpr layout frame{64, 56, 72, {48, 40, 32, 24, 16, -1, -1, -1, -1, -1, -1}};
#elif defined(__aarch64__) && !defined(WEFT_CONTEXT_FCONTEXT)
//   +0 x19..x28 +80 x29 +88 x30 (the pc the switch returns to)
constexpr layout frame{88, 80, 176, {0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 88}};
#elif defined(__x86_64__) && BOOST_VERSION / 100 == 1074
//   +8 r12 +16 r13 +24 r14 +32 r15 +40 rbx +48 rbp +56 return address
constexpr layout frame{56, 48, 64, {40, 8, 16, 24, 32, -1, -1, -1, -1, -1, -1}};
#elif defined(__aarch64__) && BOOST_VERSION / 100 == 1074
//   +0 d8..d15 +64 x19..x28 +144 x29 +152 x30 +160 pc
constexpr layout frame{160, 144, 176, {64, 72, 80, 88, 96, 104, 112, 120, 128, 136, 152}};
#else
#define WEFT_NO_SAVED_LAYOUT 1
#endif

}  // namespace

bool saved_context_layout(int& pc, int& fp, int& size, int (&callee)[11]) noexcept {
#ifdef WEFT_NO_SAVED_LAYOUT
  pc = fp = size = -1;
  for (int& c : callee) c = -1;
  return false;
#else
  pc = frame.pc;
  fp = frame.fp;
  size = frame.sp_after;
  for (int i = 0; i < 11; ++i) callee[i] = frame.callee[i];
  return true;
#endif
}

bool decode_saved_context(std::uint64_t saved_sp, saved_reader read, void* cookie, saved_regs& out) noexcept {
#ifdef WEFT_NO_SAVED_LAYOUT
  (void)saved_sp, (void)read, (void)cookie, (void)out;
  return false;
#else
  if (saved_sp == 0) return false;
  out = saved_regs{};
  out.sp = saved_sp + static_cast<std::uint64_t>(frame.sp_after);
  if (!read(cookie, saved_sp + static_cast<std::uint64_t>(frame.pc), out.pc) ||
      !read(cookie, saved_sp + static_cast<std::uint64_t>(frame.fp), out.fp))
    return false;
  for (int i = 0; i < 11; ++i)
    if (frame.callee[i] >= 0 && !read(cookie, saved_sp + static_cast<std::uint64_t>(frame.callee[i]), out.callee[i]))
      return false;
  return true;
#endif
}

}  // namespace weft::detail
