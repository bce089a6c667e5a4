// kv_server's RESP2 parser and writers (examples/kv/resp.hpp) on plain
// strings: whole requests, the same requests split at every byte, inline
// requests with Redis's quoting, pipelines, and each kind of malformed or
// oversized input with Redis's error text.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kv/glob.hpp"
#include "kv/resp.hpp"

namespace {

using kv::resp::parser;
using kv::resp::status;

std::vector<std::string> args_of(const parser& p) { return {p.args().begin(), p.args().end()}; }

// Parses `in` fed one byte more at a time (as a slow client would send it)
// and returns the first request's args; fails if any prefix already said
// complete or error.
std::vector<std::string> parse_split(const std::string& in, std::size_t* consumed = nullptr) {
  parser p;
  for (std::size_t n = 1; n < in.size(); ++n) {
    status s = p.parse(std::string_view(in).substr(0, n));
    if (s != status::need_more) {
      ADD_FAILURE() << "a prefix of " << n << " bytes gave " << static_cast<int>(s);
      return {};
    }
  }
  EXPECT_EQ(p.parse(in), status::complete);
  if (consumed) *consumed = p.consumed();
  return args_of(p);
}

TEST(KvResp, MultibulkRequestParses) {
  parser p;
  std::string in = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
  ASSERT_EQ(p.parse(in), status::complete);
  EXPECT_EQ(args_of(p), (std::vector<std::string>{"SET", "k", "hello"}));
  EXPECT_EQ(p.consumed(), in.size());
}

TEST(KvResp, RequestSplitAtEveryByteParsesTheSame) {
  std::string in = "*3\r\n$3\r\nSET\r\n$4\r\nk\r\nx\r\n$0\r\n\r\n";
  std::size_t used = 0;
  EXPECT_EQ(parse_split(in, &used), (std::vector<std::string>{"SET", "k\r\nx", ""}));
  EXPECT_EQ(used, in.size());
  EXPECT_EQ(parse_split("PING hello\r\n"), (std::vector<std::string>{"PING", "hello"}));
}

TEST(KvResp, BinaryValuesKeepEveryByte) {
  std::string value("a\0b\r\n\xff", 6);
  std::string in = "*2\r\n$4\r\nECHO\r\n$6\r\n" + value + "\r\n";
  parser p;
  ASSERT_EQ(p.parse(in), status::complete);
  EXPECT_EQ(std::string(p.args()[1]), value);
}

TEST(KvResp, PipelinedRequestsParseOneAfterAnother) {
  std::string in = "*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
  std::vector<std::vector<std::string>> got;
  std::string_view rest = in;
  parser p;
  while (p.parse(rest) == status::complete) {
    got.push_back(args_of(p));
    rest.remove_prefix(p.consumed());
    p.reset();
  }
  EXPECT_TRUE(rest.empty());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1], (std::vector<std::string>{"PING"}));
  EXPECT_EQ(got[2], (std::vector<std::string>{"GET", "k"}));
}

TEST(KvResp, InlineQuotingFollowsRedis) {
  parser p;
  ASSERT_EQ(p.parse("SET \"a b\" 'it\\'s' \"\\x41\\n\"\r\n"), status::complete);
  EXPECT_EQ(args_of(p), (std::vector<std::string>{"SET", "a b", "it's", "A\n"}));
  p.reset();
  ASSERT_EQ(p.parse("  get   k  \n"), status::complete);  // a bare \n ends a line too
  EXPECT_EQ(args_of(p), (std::vector<std::string>{"get", "k"}));
  p.reset();
  ASSERT_EQ(p.parse("SET \"open\r\n"), status::error);
  EXPECT_EQ(p.error_text(), "Protocol error: unbalanced quotes in request");
}

TEST(KvResp, EmptyRequestsAreSkipped) {
  parser p;
  EXPECT_EQ(p.parse("\r\n"), status::empty);
  EXPECT_EQ(p.consumed(), 2u);
  p.reset();
  EXPECT_EQ(p.parse("*0\r\n"), status::empty);
  p.reset();
  EXPECT_EQ(p.parse("*-1\r\n"), status::empty);
}

struct bad_case {
  std::string input;
  std::string error;
};

TEST(KvResp, MalformedInputGetsRedisErrors) {
  const bad_case cases[] = {
      {"*1\r\n$1099511627776\r\n", "Protocol error: invalid bulk length"},
      {"*2147483648\r\n", "Protocol error: invalid multibulk length"},
      {"*abc\r\n", "Protocol error: invalid multibulk length"},
      {"*1\r\n$x\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n$-5\r\n", "Protocol error: invalid bulk length"},
      {"*1\r\n+OK\r\n", "Protocol error: expected '$', got '+'"},
      {"*1\r\n$2\r\nabcd\r\n", "Protocol error: bulk string not ended by CRLF"},
      {"*1" + std::string(100, '1'), "Protocol error: too big mbulk count string"},
  };
  for (const auto& c : cases) {
    parser p;
    EXPECT_EQ(p.parse(c.input), status::error) << c.input;
    EXPECT_EQ(p.error_text(), c.error) << c.input;
  }
}

TEST(KvResp, LimitsAreCheckedBeforeTheBytesArrive) {
  parser p(kv::resp::limits{.max_bulk = 10, .max_inline = 16});
  // The header alone is enough to refuse: nothing is buffered for it.
  EXPECT_EQ(p.parse("*1\r\n$11\r\n"), status::error);
  p.reset();
  EXPECT_EQ(p.parse("*1\r\n$10\r\n"), status::need_more);
  p.reset();
  EXPECT_EQ(p.parse(std::string(17, 'a')), status::error);
  EXPECT_EQ(p.error_text(), "Protocol error: too big inline request");
  p.reset();
  EXPECT_EQ(p.parse(std::string(16, 'a')), status::need_more);
}

TEST(KvResp, WritersProduceResp2) {
  std::string out;
  kv::resp::simple(out, "OK");
  kv::resp::error(out, "ERR bad\r\nthing");
  kv::resp::integer(out, -42);
  kv::resp::bulk(out, "hi");
  kv::resp::null_bulk(out);
  kv::resp::array(out, 2);
  kv::resp::null_array(out);
  EXPECT_EQ(out, "+OK\r\n-ERR bad  thing\r\n:-42\r\n$2\r\nhi\r\n$-1\r\n*2\r\n*-1\r\n");
  EXPECT_EQ(kv::resp::format_double(1.5), "1.5");
  EXPECT_EQ(kv::resp::format_double(3), "3");
  EXPECT_EQ(kv::resp::format_double(-1.0 / 0.0), "-inf");
}

TEST(KvGlob, MatchesAsRedisKeys) {
  EXPECT_TRUE(kv::glob_match("*", ""));
  EXPECT_TRUE(kv::glob_match("h?llo", "hello"));
  EXPECT_TRUE(kv::glob_match("h*llo", "heeeello"));
  EXPECT_TRUE(kv::glob_match("h[ae]llo", "hallo"));
  EXPECT_FALSE(kv::glob_match("h[ae]llo", "hillo"));
  EXPECT_TRUE(kv::glob_match("h[^e]llo", "hallo"));
  EXPECT_FALSE(kv::glob_match("h[^e]llo", "hello"));
  EXPECT_TRUE(kv::glob_match("h[a-b]llo", "hbllo"));
  EXPECT_TRUE(kv::glob_match("news.*", "news.tech"));
  EXPECT_FALSE(kv::glob_match("news.*", "sport.tech"));
  EXPECT_TRUE(kv::glob_match("a\\*b", "a*b"));
  EXPECT_FALSE(kv::glob_match("a\\*b", "axb"));
  // Many stars against a long non-match: quick, not exponential.
  EXPECT_FALSE(kv::glob_match("*a*a*a*a*a*a*a*a*a*a*b", std::string(5000, 'a')));
}

}  // namespace
