// Unwinding a copied stack with libunwind's remote interface; see unwind.hpp.
//
// Why libunwind and not our own frame walker: frame pointers are omitted at
// -O2, so a walker must read DWARF CFI, and libunwind is the well-kept one
// Debian ships. Names come from unw_get_proc_name, which reads the module's
// full ELF symbol table (dladdr sees only exported symbols, so it would
// miss the static and -fvisibility=hidden functions a trace is made of).
// File and line are left to `addr2line -e module offset` on the
// module+offset every frame prints: a DWARF line reader (libdw) would be a
// second optional dependency for what addr2line and gdb already do.
#include "core/unwind.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>

#if WEFT_HAVE_LIBUNWIND
#include <cxxabi.h>
#include <dlfcn.h>
#include <libunwind.h>
#endif

namespace weft::detail {

struct symbol_cache {
  std::unordered_map<std::uint64_t, std::string> names;  // pc -> "fn+0x1c (module+0x1234)"
};
void symbol_cache_deleter::operator()(symbol_cache* c) const noexcept { delete c; }
symbol_cache_ptr make_symbol_cache() { return symbol_cache_ptr(new symbol_cache); }

#if WEFT_HAVE_LIBUNWIND
namespace {

struct remote {
  const saved_regs* regs;
  const stack_copy* stack;
};

// Reads 8 bytes: the stack from the copy, anything else only inside a
// loaded module's segments (where unwind tables and code are).
int access_mem(unw_addr_space_t, unw_word_t addr, unw_word_t* val, int write, void* arg) {
  if (write) return -UNW_EINVAL;
  const stack_copy& s = *static_cast<remote*>(arg)->stack;
  if (addr >= s.lo && addr - s.lo + sizeof *val <= s.bytes.size()) {
    std::memcpy(val, s.bytes.data() + (addr - s.lo), sizeof *val);
    return 0;
  }
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(addr), &info) == 0 ||
      dladdr(reinterpret_cast<void*>(addr + sizeof *val - 1), &info) == 0)
    return -UNW_EINVAL;
  std::memcpy(val, reinterpret_cast<const void*>(addr), sizeof *val);
  return 0;
}

int access_reg(unw_addr_space_t, unw_regnum_t reg, unw_word_t* val, int write, void* arg) {
  if (write) return -UNW_EREADONLYREG;
  const saved_regs& r = *static_cast<remote*>(arg)->regs;
  std::uint64_t v = 0;
#if defined(__x86_64__)
  switch (reg) {
    case UNW_X86_64_RIP: v = r.pc; break;
    case UNW_X86_64_RSP: v = r.sp; break;
    case UNW_X86_64_RBP: v = r.fp; break;
    case UNW_X86_64_RBX: v = r.callee[0]; break;
    case UNW_X86_64_R12: case UNW_X86_64_R13: case UNW_X86_64_R14: case UNW_X86_64_R15:
      v = r.callee[1 + (reg - UNW_X86_64_R12)];
      break;
    default: break;  // caller-saved: dead across the switch, 0 is as good as any
  }
#elif defined(__aarch64__)
  if (reg == UNW_AARCH64_PC) v = r.pc;
  else if (reg == UNW_AARCH64_SP) v = r.sp;
  else if (reg == UNW_AARCH64_X29) v = r.fp;
  else if (reg == UNW_AARCH64_X30) v = r.callee[10];
  else if (reg >= UNW_AARCH64_X19 && reg <= UNW_AARCH64_X28) v = r.callee[reg - UNW_AARCH64_X19];
#endif
  *val = v;
  return 0;
}

int access_fpreg(unw_addr_space_t, unw_regnum_t, unw_fpreg_t*, int, void*) { return -UNW_EBADREG; }
int resume(unw_addr_space_t, unw_cursor_t*, void*) { return -UNW_EINVAL; }
int dyn_info_list(unw_addr_space_t, unw_word_t*, void*) { return -UNW_ENOINFO; }

// Finding the unwind table of a pc is the same as for the local address
// space (the code is ours): delegated, with no cursor argument, so its
// reads go straight to the module's memory.
int find_proc_info(unw_addr_space_t, unw_word_t ip, unw_proc_info_t* pi, int need, void*) {
  return unw_get_accessors(unw_local_addr_space)->find_proc_info(unw_local_addr_space, ip, pi, need, nullptr);
}
void put_unwind_info(unw_addr_space_t, unw_proc_info_t* pi, void*) {
  unw_get_accessors(unw_local_addr_space)->put_unwind_info(unw_local_addr_space, pi, nullptr);
}
int proc_name(unw_addr_space_t, unw_word_t ip, char* buf, std::size_t len, unw_word_t* off, void*) {
  return unw_get_accessors(unw_local_addr_space)->get_proc_name(unw_local_addr_space, ip, buf, len, off, nullptr);
}

unw_addr_space_t copy_space() {
  // Made once: creating one is cheap, but it is never destroyed either.
  static unw_addr_space_t as = [] {
    unw_accessors_t acc{};
    acc.find_proc_info = &find_proc_info;
    acc.put_unwind_info = &put_unwind_info;
    acc.get_dyn_info_list_addr = &dyn_info_list;
    acc.access_mem = &access_mem;
    acc.access_reg = &access_reg;
    acc.access_fpreg = &access_fpreg;
    acc.resume = &resume;
    acc.get_proc_name = &proc_name;
    unw_addr_space_t s = unw_create_addr_space(&acc, 0);
    // Every copy is a different stack: nothing may be cached between dumps.
    if (s) unw_set_caching_policy(s, UNW_CACHE_NONE);
    return s;
  }();
  return as;
}

// "fn+0x1c (module+0x1234)", or "module+0x1234" without a symbol.
std::string describe(unw_cursor_t& c, std::uint64_t pc) {
  char line[768];
  char sym[512];
  unw_word_t off = 0;
  std::string fn;
  if (unw_get_proc_name(&c, sym, sizeof sym, &off) == 0) {
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> dm(abi::__cxa_demangle(sym, nullptr, nullptr, &status), &std::free);
    fn = status == 0 && dm ? dm.get() : sym;
  }
  Dl_info info{};
  const char* module = "?";
  std::uintptr_t base = 0;
  if (dladdr(reinterpret_cast<void*>(pc), &info) != 0 && info.dli_fname) {
    module = std::strrchr(info.dli_fname, '/') ? std::strrchr(info.dli_fname, '/') + 1 : info.dli_fname;
    base = reinterpret_cast<std::uintptr_t>(info.dli_fbase);
  }
  if (!fn.empty())
    std::snprintf(line, sizeof line, "%s+0x%" PRIx64 " (%s+0x%" PRIxPTR ")", fn.c_str(),
                  static_cast<std::uint64_t>(off), module, static_cast<std::uintptr_t>(pc) - base);
  else
    std::snprintf(line, sizeof line, "%s+0x%" PRIxPTR, module, static_cast<std::uintptr_t>(pc) - base);
  return line;
}

}  // namespace

std::vector<std::string> unwind_suspended(const saved_regs& regs, const stack_copy& stack, int max_frames,
                                          symbol_cache& names, std::string& why) {
  std::vector<std::string> out;
  unw_addr_space_t as = copy_space();
  if (!as) {
    why = "libunwind could not create an address space";
    return out;
  }
  remote arg{&regs, &stack};
  unw_cursor_t c;
  if (int rc = unw_init_remote(&c, as, &arg); rc < 0) {
    why = std::string("libunwind: ") + unw_strerror(rc);
    return out;
  }
  for (int i = 0; i < max_frames; ++i) {
    unw_word_t pc = 0;
    if (unw_get_reg(&c, UNW_REG_IP, &pc) < 0 || pc == 0) break;
    auto [it, fresh] = names.names.try_emplace(pc);
    if (fresh) it->second = describe(c, pc);
    char head[48];
    std::snprintf(head, sizeof head, "#%-2d 0x%016" PRIx64 " in ", i, static_cast<std::uint64_t>(pc));
    out.push_back(head + it->second);
    if (unw_step(&c) <= 0) break;
  }
  if (out.empty()) why = "libunwind found no frame";
  return out;
}

bool unwinder_available(const char** why) noexcept {
  *why = "";
  return true;
}

#else  // !WEFT_HAVE_LIBUNWIND

std::vector<std::string> unwind_suspended(const saved_regs&, const stack_copy&, int, symbol_cache&, std::string& why) {
  why = "stacks unavailable: built without libunwind";
  return {};
}

bool unwinder_available(const char** why) noexcept {
  *why = "stacks unavailable: built without libunwind";
  return false;
}

#endif

}  // namespace weft::detail
