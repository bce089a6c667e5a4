// Fiber-switch annotations for AddressSanitizer and ThreadSanitizer. They
// compile to nothing in a normal build, so the release switch path carries
// no sanitizer cost.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define WEFT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEFT_TSAN 1
#endif
#endif

#ifdef WEFT_ASAN
#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef WEFT_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace weft::detail {

// Per-context sanitizer state; lives in the TCB and in each worker.
struct san_state {
#ifdef WEFT_ASAN
  void* fake_stack = nullptr;
  const void* stack_lo = nullptr;
  std::size_t stack_size = 0;
#endif
#ifdef WEFT_TSAN
  void* fiber = nullptr;
#endif
};

// Before switching from the context that owns `from` to the one that owns `to`.
// `from_dying` tells ASan to drop the fake stack of a context that never runs again.
inline void san_before_switch(san_state& from, san_state& to, bool from_dying) noexcept {
#ifdef WEFT_ASAN
  __sanitizer_start_switch_fiber(from_dying ? nullptr : &from.fake_stack, to.stack_lo, to.stack_size);
#endif
#ifdef WEFT_TSAN
  __tsan_switch_to_fiber(to.fiber, 0);
#endif
  (void)from; (void)to; (void)from_dying;
}

// Fills `self` for the calling kernel thread's own stack (its bounds for
// ASan, its fiber for TSan), so contexts can switch back to it.
inline void san_adopt_thread(san_state& self) noexcept {
#ifdef WEFT_ASAN
  pthread_attr_t attr;
  pthread_getattr_np(pthread_self(), &attr);
  void* lo = nullptr;
  std::size_t sz = 0;
  pthread_attr_getstack(&attr, &lo, &sz);
  pthread_attr_destroy(&attr);
  self.stack_lo = lo;
  self.stack_size = sz;
#endif
#ifdef WEFT_TSAN
  self.fiber = __tsan_get_current_fiber();
#endif
  (void)self;
}

// First thing a context does once it runs again.
inline void san_after_switch(san_state& self) noexcept {
#ifdef WEFT_ASAN
  __sanitizer_finish_switch_fiber(self.fake_stack, nullptr, nullptr);
#endif
  (void)self;
}

}  // namespace weft::detail
