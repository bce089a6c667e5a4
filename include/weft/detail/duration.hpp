// Timeouts and deadlines as int64 nanoseconds, without overflow. Every timed
// call in weft's headers converts its duration or time point here, so a
// "forever" written in coarse units (seconds::max(), hours::max(), years)
// saturates at INT64_MAX instead of wrapping into a negative value, and a far
// past one saturates at INT64_MIN.
#pragma once

#include <chrono>
#include <cstdint>
#include <ratio>
#include <string>
#include <type_traits>

#include "../error.hpp"

namespace weft::detail {

inline constexpr std::int64_t ns_max = INT64_MAX;
inline constexpr std::int64_t ns_min = INT64_MIN;

// x nanoseconds truncated toward zero, saturated to the int64 range; x is not NaN.
constexpr std::int64_t saturate_ns(long double x) noexcept {
  if (x >= 0x1p63L) return ns_max;
  if (x <= -0x1p63L) return ns_min;
  return static_cast<std::int64_t>(x);
}

// True when v is representable as int64 (any integer type, signed or not).
template <class I>
constexpr bool fits_int64(I v) noexcept {
  if constexpr (std::is_signed_v<I>) {
    if constexpr (sizeof(I) > sizeof(std::int64_t)) return v >= static_cast<I>(ns_min) && v <= static_cast<I>(ns_max);
    return true;
  } else {
    if constexpr (sizeof(I) >= sizeof(std::int64_t)) return v <= static_cast<I>(ns_max);
    return true;
  }
}

// d in nanoseconds, truncated toward zero as duration_cast does, but
// saturating at INT64_MAX / INT64_MIN where duration_cast would overflow
// (integer and floating reps, any period). Throws weft::error(invalid_argument)
// naming `what` when d is NaN.
template <class Rep, class Period>
constexpr std::int64_t saturating_ns(std::chrono::duration<Rep, Period> d, const char* what) {
  using r = std::ratio_divide<Period, std::nano>;  // nanoseconds per tick, reduced
  if constexpr (std::chrono::treat_as_floating_point_v<Rep>) {
    long double x = static_cast<long double>(d.count());
    if (x != x) throw error(errc::invalid_argument, std::string(what) + ": the timeout is NaN");
    return saturate_ns(x * static_cast<long double>(r::num) / static_cast<long double>(r::den));
  } else if constexpr (std::is_integral_v<Rep>) {
    Rep v = d.count();
    // Counts beyond int64 (unsigned or wider reps): long double is exact
    // enough there, and only ever that far out.
    if (!fits_int64(v))
      return saturate_ns(static_cast<long double>(v) * static_cast<long double>(r::num) /
                         static_cast<long double>(r::den));
    auto c = static_cast<std::int64_t>(v);
    if constexpr (r::den == 1) {
      std::int64_t out;
      if (__builtin_mul_overflow(c, static_cast<std::int64_t>(r::num), &out)) return c < 0 ? ns_min : ns_max;
      return out;
    } else if constexpr (r::num == 1) {
      return c / static_cast<std::int64_t>(r::den);
    } else {
      // c * num / den as (c / den) * num + (c % den) * num / den, each checked.
      std::int64_t whole;
      if (__builtin_mul_overflow(c / r::den, static_cast<std::int64_t>(r::num), &whole)) return c < 0 ? ns_min : ns_max;
      std::int64_t rem = c % r::den, part;
      if (__builtin_mul_overflow(rem, static_cast<std::int64_t>(r::num), &part))
        part = saturate_ns(static_cast<long double>(rem) * static_cast<long double>(r::num) /
                           static_cast<long double>(r::den));
      else
        part /= r::den;
      std::int64_t out;
      if (__builtin_add_overflow(whole, part, &out)) return c < 0 ? ns_min : ns_max;
      return out;
    }
  } else {
    // A class-type rep: all weft can do is what std::chrono does.
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  }
}

// A steady_clock time point as a deadline in steady nanoseconds: saturated
// as saturating_ns, and a time point before the clock's epoch counts as 0,
// a deadline that has passed (negative deadlines mean "none" inside weft).
// Throws weft::error(invalid_argument) naming `what` when t is NaN.
template <class Duration>
constexpr std::int64_t steady_deadline_ns(std::chrono::time_point<std::chrono::steady_clock, Duration> t,
                                          const char* what) {
  std::int64_t ns = saturating_ns(t.time_since_epoch(), what);
  return ns < 0 ? 0 : ns;
}

}  // namespace weft::detail
