// HTTP dates (IMF-fixdate, RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace http {

// Formats t as an IMF-fixdate (29 characters).
std::string format_http_date(std::time_t t);
// Parses an IMF-fixdate; nullopt for anything else (the obsolete RFC 850
// and asctime forms included: a date we cannot read is ignored, as RFC 9110
// 13.1.3 allows for If-Modified-Since).
std::optional<std::time_t> parse_http_date(std::string_view s);

// The current time as an IMF-fixdate, formatted at most once a second per
// kernel thread (a Date header on every response should not cost a gmtime
// and a strftime each).
std::string_view current_http_date();

}  // namespace http
