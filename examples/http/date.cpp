#include "date.hpp"

#include <cstdio>
#include <cstring>

namespace http {

namespace {

constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool digits(std::string_view s, int& v) {
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  return !s.empty();
}

}  // namespace

std::string format_http_date(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
                        months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return std::string(buf, static_cast<std::size_t>(n));
}

std::optional<std::time_t> parse_http_date(std::string_view s) {
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' || s[19] != ':' ||
      s[22] != ':' || s.substr(25) != " GMT")
    return std::nullopt;
  std::tm tm{};
  int mon = -1;
  for (int i = 0; i < 12; ++i)
    if (s.substr(8, 3) == months[i]) mon = i;
  if (mon < 0) return std::nullopt;
  int day, year, hour, min, sec;
  if (!digits(s.substr(5, 2), day) || !digits(s.substr(12, 4), year) || !digits(s.substr(17, 2), hour) ||
      !digits(s.substr(20, 2), min) || !digits(s.substr(23, 2), sec))
    return std::nullopt;
  if (day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60 || year < 1970) return std::nullopt;
  tm.tm_mday = day;
  tm.tm_mon = mon;
  tm.tm_year = year - 1900;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return ::timegm(&tm);
}

std::string_view current_http_date() {
  // Per kernel thread, not shared: no lock, and a green thread never yields
  // between the check and the use, so the view stays whole until the
  // caller copies it into a response (before its next blocking call).
  thread_local std::time_t formatted_for = -1;
  thread_local char text[30];
  std::time_t now = std::time(nullptr);
  if (now != formatted_for) {
    std::string s = format_http_date(now);
    std::memcpy(text, s.data(), 29);
    formatted_for = now;
  }
  return {text, 29};
}

}  // namespace http
