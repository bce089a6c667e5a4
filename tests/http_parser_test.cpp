// The HTTP example's request parser, path decoding and dates
// (examples/http/), on their own: good heads of every shape the server
// meets, and each kind of bad input with the status it must get.
#include <gtest/gtest.h>

#include <string>

#include "http/date.hpp"
#include "http/parser.hpp"
#include "http/path.hpp"

namespace {

http::parse_error parse(const std::string& head, http::request& r, http::parse_limits lim = {}) {
  return http::parse_request(head, r, lim);
}

int status_of(const std::string& head) {
  http::request r;
  return parse(head, r).status;
}

TEST(HttpParser, SimpleGetIsZeroCopy) {
  std::string head = "GET /plaintext HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain \r\n\r\n";
  http::request r;
  ASSERT_FALSE(parse(head, r)) << parse(head, r).reason;
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/plaintext");
  EXPECT_EQ(r.minor_version, 1);
  EXPECT_EQ(r.header_count, 2u);
  EXPECT_EQ(r.find("accept").value(), "text/plain");  // trimmed, case-insensitive name
  EXPECT_EQ(r.host, "localhost");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(r.body, http::body_kind::none);
  // The views point into the head.
  EXPECT_GE(r.target.data(), head.data());
  EXPECT_LT(r.target.data(), head.data() + head.size());
}

TEST(HttpParser, KeepAliveFollowsVersionAndConnection) {
  http::request r;
  ASSERT_FALSE(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", r));
  EXPECT_FALSE(r.keep_alive);
  ASSERT_FALSE(parse("GET / HTTP/1.0\r\n\r\n", r));
  EXPECT_EQ(r.minor_version, 0);
  EXPECT_FALSE(r.keep_alive);
  ASSERT_FALSE(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", r));
  EXPECT_TRUE(r.keep_alive);
  ASSERT_FALSE(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade, close\r\n\r\n", r));
  EXPECT_FALSE(r.keep_alive);
}

TEST(HttpParser, Bodies) {
  http::request r;
  ASSERT_FALSE(parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\n", r));
  EXPECT_EQ(r.body, http::body_kind::length);
  EXPECT_EQ(r.content_length, 12u);
  ASSERT_FALSE(parse("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", r));
  EXPECT_EQ(r.body, http::body_kind::chunked);
  ASSERT_FALSE(parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", r));
  EXPECT_EQ(r.content_length, 5u);
}

TEST(HttpParser, LeadingEmptyLinesAreSkipped) {
  http::request r;
  std::string head = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";  // the views point into it
  ASSERT_FALSE(parse(head, r));
  EXPECT_EQ(r.target, "/");
}

TEST(HttpParser, MalformedIs400) {
  EXPECT_EQ(status_of("GET\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET /\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(status_of("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTX/1.1\r\nHost: a\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost a\r\n\r\n"), 400);              // no colon
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);            // space before the colon
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n"), 400);  // obs-fold
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\x01" "b\r\n\r\n"), 400);     // control character
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\n\r\n"), 400);                        // 1.1 without Host
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 400);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"), 400);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\n"), 400);  // no blank line
}

TEST(HttpParser, UnknownTransferEncodingIs501) {
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), 501);
  EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
}

TEST(HttpParser, OtherVersionsAre505) { EXPECT_EQ(status_of("GET / HTTP/2.0\r\n\r\n"), 505); }

TEST(HttpParser, LongTargetIs414AndTooManyHeadersIs431) {
  http::request r;
  std::string target(100, 'a');
  EXPECT_EQ(parse("GET /" + target + " HTTP/1.1\r\nHost: a\r\n\r\n", r, {.max_target = 50}).status, 414);
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (std::size_t i = 0; i < http::request::max_headers; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(status_of(head + "\r\n"), 431);
}

TEST(HttpParser, ChunkSizes) {
  std::uint64_t n = 0;
  EXPECT_TRUE(http::parse_chunk_size("1a", n));
  EXPECT_EQ(n, 26u);
  EXPECT_TRUE(http::parse_chunk_size("0", n));
  EXPECT_EQ(n, 0u);
  EXPECT_TRUE(http::parse_chunk_size("FF;name=value", n));
  EXPECT_EQ(n, 255u);
  EXPECT_FALSE(http::parse_chunk_size("", n));
  EXPECT_FALSE(http::parse_chunk_size("xyz", n));
  EXPECT_FALSE(http::parse_chunk_size("1234567890abcdef0", n));  // beyond 60 bits
}

TEST(HttpPath, DecodesAndNormalises) {
  std::string p;
  EXPECT_EQ(http::target_to_path("/", p), http::path_status::ok);
  EXPECT_EQ(p, "");
  EXPECT_EQ(http::target_to_path("/a/b%20c.txt?x=../..", p), http::path_status::ok);
  EXPECT_EQ(p, "a/b c.txt");
  EXPECT_EQ(http::target_to_path("//a/./b/", p), http::path_status::ok);
  EXPECT_EQ(p, "a/b");
}

TEST(HttpPath, RefusesEscapes) {
  std::string p;
  EXPECT_EQ(http::target_to_path("/../etc/passwd", p), http::path_status::forbidden);
  EXPECT_EQ(http::target_to_path("/a/../../b", p), http::path_status::forbidden);
  EXPECT_EQ(http::target_to_path("/%2e%2e/etc/passwd", p), http::path_status::forbidden);
  EXPECT_EQ(http::target_to_path("/a%2f..%2f..%2fetc", p), http::path_status::forbidden);
  EXPECT_EQ(http::target_to_path("/a%2F", p), http::path_status::forbidden);
  EXPECT_EQ(http::target_to_path("/a%5c..", p), http::path_status::forbidden);
  EXPECT_EQ(http::target_to_path("/a\\..", p), http::path_status::forbidden);
  EXPECT_EQ(http::target_to_path("/a%00b", p), http::path_status::forbidden);
  EXPECT_EQ(http::target_to_path("/a%2", p), http::path_status::bad_request);
  EXPECT_EQ(http::target_to_path("/a%zz", p), http::path_status::bad_request);
  EXPECT_EQ(http::target_to_path("*", p), http::path_status::bad_request);
  EXPECT_EQ(http::target_to_path("http://x/a", p), http::path_status::bad_request);
}

TEST(HttpPath, ContentTypes) {
  EXPECT_EQ(http::content_type_for("a/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(http::content_type_for("x.PNG"), "image/png");
  EXPECT_EQ(http::content_type_for("README"), "application/octet-stream");
  EXPECT_EQ(http::content_type_for("dir.d/file"), "application/octet-stream");
}

TEST(HttpDate, FormatsAndParsesImfFixdate) {
  EXPECT_EQ(http::format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").value(), 784111777);
  EXPECT_FALSE(http::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT").has_value());
  EXPECT_FALSE(http::parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT").has_value());
  EXPECT_EQ(http::current_http_date().size(), 29u);
}

}  // namespace
