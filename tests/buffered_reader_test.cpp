// The buffered reader over socket pairs on both engines: delimiters that
// arrive a byte at a time or straddle reads, lines with either ending, exact
// reads, peek and consume, the limit, deadlines, and the end of the stream
// in the middle of a line.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "io_test_support.hpp"
#include "weft/io/buffered_reader.hpp"

using namespace std::chrono_literals;
using weft_io_test::IoEngine;
using weft_io_test::weft_error_of;
namespace io = weft::io;

namespace {

class BufferedReader : public IoEngine {
 protected:
  // Runs body(reader side, writer side) in a green thread of a runtime on this test's engine.
  template <class F>
  void with_pair(F body) {
    weft::runtime rt(opts(2));
    weft::spawn_in(rt, [&] {
      auto [a, b] = io::socket::pair();
      body(a, b);
    }).join();
  }
};
WEFT_IO_ENGINES(BufferedReader);

// Writes each piece with its own write, from another green thread, pausing
// between them so each arrives on its own.
weft::thread<void> write_pieces(io::socket& s, std::vector<std::string> pieces, bool close_after = false) {
  return weft::spawn([&s, pieces = std::move(pieces), close_after] {
    for (auto& p : pieces) {
      s.write_all(p.data(), p.size());
      weft::this_thread::sleep_for(1ms);
    }
    if (close_after) s.shutdown(SHUT_WR);
  });
}

TEST_P(BufferedReader, LinesWithEitherEnding) {
  with_pair([](io::socket& a, io::socket& b) {
    io::buffered_reader r(a);
    auto w = write_pieces(b, {"one\ntwo\r\n\nthree"}, true);
    EXPECT_EQ(r.read_line().value(), "one");
    EXPECT_EQ(r.read_line().value(), "two");
    EXPECT_EQ(r.read_line().value(), "");
    EXPECT_EQ(weft_error_of([&] { r.read_line(); }), weft::errc::end_of_stream);
    // The unterminated tail is still there.
    EXPECT_EQ(r.buffered(), "three");
    r.consume(5);
    EXPECT_FALSE(r.read_line().has_value());  // a clean end now
    w.join();
  });
}

TEST_P(BufferedReader, DataSplitAcrossManySmallWrites) {
  with_pair([](io::socket& a, io::socket& b) {
    std::string text;
    for (int i = 0; i < 20; ++i) text += "line " + std::to_string(i) + "\r\n";
    std::vector<std::string> bytes;
    for (char c : text) bytes.emplace_back(1, c);
    io::buffered_reader r(a);
    auto w = write_pieces(b, bytes, true);
    for (int i = 0; i < 20; ++i) ASSERT_EQ(r.read_line().value(), "line " + std::to_string(i));
    EXPECT_FALSE(r.read_line().has_value());
    EXPECT_TRUE(r.at_eof());
    w.join();
  });
}

TEST_P(BufferedReader, DelimiterStraddlingReads) {
  with_pair([](io::socket& a, io::socket& b) {
    io::buffered_reader r(a);
    auto w = write_pieces(b, {"GET / HTTP/1.1\r\nHost: x\r", "\n\r", "\nbody"});
    EXPECT_EQ(r.read_until("\r\n\r\n").value(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.read_exact(4), "body");
    w.join();
  });
}

TEST_P(BufferedReader, ReadExactPeekConsumeAndRead) {
  with_pair([](io::socket& a, io::socket& b) {
    io::buffered_reader r(a, 16);
    auto w = write_pieces(b, {"0123", "456789", "abcdef", "ghij"}, true);
    EXPECT_EQ(r.peek(5), "01234");
    EXPECT_EQ(r.peek(5), "01234");  // peek does not consume
    r.consume(2);
    EXPECT_EQ(r.read_exact(8), "23456789");
    char buf[3];
    EXPECT_EQ(r.read(buf, 3), 3u);
    EXPECT_EQ(std::string(buf, 3), "abc");
    EXPECT_EQ(r.read_until('h').value(), "defgh");
    EXPECT_EQ(weft_error_of([&] { r.read_exact(3); }), weft::errc::end_of_stream);
    EXPECT_EQ(r.peek(3), "ij");  // fewer at the end of the stream
    EXPECT_EQ(weft_error_of([&] { r.consume(3); }), weft::errc::invalid_argument);
    r.consume(2);
    EXPECT_EQ(r.read(buf, 3), 0u);
    w.join();
  });
}

TEST_P(BufferedReader, LargeReadsBypassTheBufferAndKeepOrder) {
  with_pair([](io::socket& a, io::socket& b) {
    std::string big(200000, 'x');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
    io::buffered_reader r(a, 1024);
    auto w = weft::spawn([&] {
      std::string head = "len\n";
      b.write_all(head.data(), head.size());
      b.write_all(big.data(), big.size());
      b.shutdown(SHUT_WR);
    });
    EXPECT_EQ(r.read_line().value(), "len");
    std::string got;
    char buf[10000];
    while (std::size_t n = r.read(buf, sizeof buf)) got.append(buf, n);
    EXPECT_EQ(got, big);
    w.join();
  });
}

TEST_P(BufferedReader, LimitExceededIsAnErrorNotGrowth) {
  with_pair([](io::socket& a, io::socket& b) {
    io::buffered_reader r(a, 100);
    std::string long_line(150, 'y');
    long_line += '\n';
    b.write_all(long_line.data(), long_line.size());
    EXPECT_EQ(weft_error_of([&] { r.read_line(); }), weft::errc::limit_exceeded);
    EXPECT_EQ(r.buffered().size(), 100u);  // what it got is still there
    EXPECT_EQ(weft_error_of([&] { r.peek(101); }), weft::errc::limit_exceeded);
    EXPECT_EQ(weft_error_of([&] { r.read_exact(101); }), weft::errc::limit_exceeded);
    EXPECT_EQ(weft_error_of([&] { r.fill(); }), weft::errc::limit_exceeded);
    // Consuming makes room: the reader goes on.
    r.consume(100);
    EXPECT_EQ(r.read_line().value(), std::string(50, 'y'));
  });
}

TEST_P(BufferedReader, DeadlineBoundsTheWholeCall) {
  with_pair([](io::socket& a, io::socket& b) {
    io::buffered_reader r(a);
    // Bytes keep coming but the delimiter never does: the deadline still ends the call.
    std::atomic<bool> stop{false};
    std::size_t written = 0;
    auto w = weft::spawn([&] {
      while (!stop.load()) {
        b.write_all("z", 1);
        ++written;
        weft::this_thread::sleep_for(5ms);
      }
    });
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(weft_error_of([&] { r.read_until('\n', 100ms); }), weft::errc::timed_out);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);
    stop = true;
    w.join();
    EXPECT_FALSE(r.buffered().empty());  // kept for the next call
    // All that was written, and one byte more that never comes.
    EXPECT_EQ(weft_error_of([&] { r.read_exact(written + 1, 20ms); }), weft::errc::timed_out);
    EXPECT_EQ(r.buffered(), std::string(written, 'z'));
  });
}

TEST_P(BufferedReader, CleanEndOfStream) {
  with_pair([](io::socket& a, io::socket& b) {
    io::buffered_reader r(a);
    b.shutdown(SHUT_WR);
    EXPECT_FALSE(r.read_until("\r\n").has_value());
    EXPECT_EQ(r.peek(1), "");
    EXPECT_EQ(r.fill(), 0u);
  });
}

TEST_P(BufferedReader, BadArguments) {
  with_pair([](io::socket& a, io::socket&) {
    EXPECT_EQ(weft_error_of([&] { io::buffered_reader(a, 0); }), weft::errc::invalid_argument);
    io::buffered_reader r(a);
    EXPECT_EQ(weft_error_of([&] { r.read_until(std::string_view()); }), weft::errc::invalid_argument);
  });
}

}  // namespace
