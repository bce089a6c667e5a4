// The echo_server example (examples/echo_server.cpp) as a real process: the
// test starts the built binary with posix_spawn, reads the port from its
// "listening on 127.0.0.1:P" line and drives it with plain blocking POSIX
// sockets from std::threads -- an independent client, no weft on this side --
// on both I/O engines: many concurrent connections with random message sizes,
// a byte-at-a-time client, one 4 MiB write, half-close, resets mid-stream,
// connection churn, SIGTERM/SIGINT shutdown with connections open, and bad
// command lines. Every server must exit with status 0, which under ASan also
// means LeakSanitizer found nothing.
//
// The binary is tests/CMakeLists.txt's own build of the example
// (WEFT_ECHO_SERVER_PATH), so it runs under the sanitizers of the build;
// WEFT_ECHO_SERVER=/path overrides it.
// Timeouts are multiplied by 3 under ASan, 4 under TSan and 10 when
// cross-built for an emulator; bulk counts (connections, cycles, bytes
// dribbled) are divided by 2 under TSan and 10 under an emulator.
// WEFT_TEST_SLOWDOWN=N sets both factors to N.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <signal.h>

#include "echo_process_support.hpp"

namespace {

using namespace echo_process_test;

// ---------------------------------------------------------------------------
// The fixture: one instance per engine

std::string engine_param_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

class EchoServerProcess : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (auto why = why_no_binary(); !why.empty()) GTEST_FAIL() << why;
    if (GetParam() == "io_uring" && !weft_io_test::uring_available())
      GTEST_SKIP() << "io_uring is refused on this machine (or emulator)";
    seed_ = test_seed() ^ std::hash<std::string>{}(::testing::UnitTest::GetInstance()->current_test_info()->name());
    RecordProperty("seed", std::to_string(test_seed()));
  }

  void TearDown() override {
    if (HasFailure()) std::printf("(data seed: WEFT_ECHO_TEST_SEED=%llu reproduces it)\n", static_cast<unsigned long long>(test_seed()));
  }

  // Starts a server on this test's engine and waits for its port; the test
  // fails (and returns nullptr) if it does not come up.
  std::unique_ptr<server_process> start() {
    auto s = std::make_unique<server_process>(
        std::vector<std::string>{"--port", "0", "--engine", GetParam(), "--workers", "2"});
    if (!s->spawn_error().empty()) {
      ADD_FAILURE() << s->spawn_error();
      return nullptr;
    }
    port_ = s->wait_listening(scaled(15s));
    if (port_ == 0) {
      auto st = s->wait_exit(1s);
      ADD_FAILURE() << "echo_server did not print \"listening on 127.0.0.1:P\"; "
                    << (st ? describe_status(*st) : std::string("still running, killed"))
                    << "\nstdout: " << s->out() << "\nstderr: " << s->err();
      return nullptr;
    }
    // The engine asked for is the engine it runs on.
    std::string engine_line = "weft: I/O engine: " + GetParam() + " ";
    EXPECT_TRUE(s->wait_stderr(engine_line, process_limit(5s))) << "stderr: " << s->err();
    return s;
  }

  // A connection to the current server, or a test failure.
  client connect() {
    std::string err;
    client c = client::connect(port_, &err);
    EXPECT_TRUE(c) << err;
    return c;
  }

  // Sends `sig`, expects exit status 0 and the server's shutdown message
  // naming the signal; a server that has not stopped by process_limit() is
  // killed and the test fails.
  void expect_clean_exit(server_process& s, int sig) {
    ASSERT_EQ(::kill(s.pid(), sig), 0) << errno_text(errno);
    auto t0 = steady::now();
    std::optional<int> st = s.wait_exit(process_limit(5s));
    auto took = std::chrono::duration_cast<milliseconds>(steady::now() - t0);
    ASSERT_TRUE(st.has_value()) << "echo_server still running " << process_limit(5s).count() << " ms after "
                                << strsignal(sig) << "; killed with SIGKILL\nstderr: " << s.err();
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 0)
        << "after " << strsignal(sig) << ": " << describe_status(*st) << " (in " << took.count()
        << " ms)\nstderr: " << s.err();
    EXPECT_NE(s.err().find(std::string("echo_server: ") + strsignal(sig) + ", shutting down"), std::string::npos)
        << "stderr: " << s.err();
  }

  // Waits until the server holds no more sockets than `baseline` (its
  // connections were all cleaned up); -1 baselines (no /proc) pass.
  void expect_fds_back_to(server_process& s, int baseline) {
    if (baseline < 0) return;
    int now = -1;
    bool ok = eventually([&] { return (now = s.open_sockets()) <= baseline; }, scaled(10s));
    EXPECT_TRUE(ok) << "echo_server holds " << now << " sockets, " << baseline
                    << " when idle: connections were not closed";
  }

  // The server's socket count when idle, after one connection came and went.
  int idle_fds(server_process& s) {
    client c = connect();
    EXPECT_EQ(round_trip(c, seed_, 0, 100), "");
    c.shutdown_write();
    EXPECT_EQ(c.expect_eof(), "");
    c.close();
    // The server closes its end after it read the end of stream; let the
    // count settle.
    int last = s.open_sockets(), same = 0;
    for (int i = 0; i < 100 && same < 5; ++i) {
      std::this_thread::sleep_for(10ms);
      int n = s.open_sockets();
      same = n == last ? same + 1 : 0;
      last = n;
    }
    return last;
  }

  std::uint64_t seed_ = 0;
  int port_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Engines, EchoServerProcess, ::testing::Values("io_uring", "epoll"), engine_param_name);

// 200 connections open at once, each echoing a stream of random-sized
// messages (1 B .. 64 KiB) with its own writer and reader thread.
TEST_P(EchoServerProcess, ManyConcurrentConnectionsEchoRandomMessagesExactly) {
  auto server = start();
  ASSERT_TRUE(server);
  const int idle = idle_fds(*server);
  const int conns = count(200, 20);
  const int messages = 12;

  std::vector<client> cs;
  for (int i = 0; i < conns; ++i) {
    cs.push_back(connect());
    ASSERT_TRUE(cs.back()) << "connection " << i;
  }
  // A round trip on each: the server has accepted all of them, and serves
  // them at the same time (it holds a descriptor for each).
  for (int i = 0; i < conns; ++i) ASSERT_EQ(round_trip(cs[i], seed_ + 1000 + i, 0, 1), "") << "connection " << i;
  if (idle >= 0) {
    EXPECT_GE(server->open_sockets(), idle + conns);
  }

  std::mt19937_64 rng(seed_);
  std::vector<std::vector<std::size_t>> sizes(conns);
  std::uint64_t total = 0;
  for (auto& s : sizes)
    for (int m = 0; m < messages; ++m) {
      // Half small, half anywhere up to 64 KiB.
      std::size_t hi = (rng() & 1) ? 65536 : 1024;
      s.push_back(std::uniform_int_distribution<std::size_t>(1, hi)(rng));
      total += s.back();
    }

  error_log errors;
  std::atomic<int> done{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < conns; ++i)
    ts.emplace_back([&, i] {
      if (auto e = echo_stream(cs[i], seed_ + static_cast<std::uint64_t>(i), sizes[i]); !e.empty())
        errors.add("connection " + std::to_string(i) + ": " + e);
      else
        done.fetch_add(1);
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(errors.count(), 0) << errors.summary();
  EXPECT_EQ(done.load(), conns) << total << " bytes sent in all";
  cs.clear();
  expect_fds_back_to(*server, idle);
  expect_clean_exit(*server, SIGTERM);
}

// One byte at a time: each byte comes back before the next is sent (the
// server echoes what it has, not whole buffers).
TEST_P(EchoServerProcess, ByteAtATimeClient) {
  auto server = start();
  ASSERT_TRUE(server);
  client c = connect();
  ASSERT_TRUE(c);
  c.set_nodelay();
  const int n = count(2000, 200);
  for (int i = 0; i < n; ++i) {
    unsigned char out = static_cast<unsigned char>(mix(seed_ + static_cast<std::uint64_t>(i))), in = 0;
    ASSERT_EQ(c.send_all(&out, 1), "") << "byte " << i;
    ASSERT_EQ(c.recv_exact(&in, 1), "") << "byte " << i;
    ASSERT_EQ(in, out) << "byte " << i;
  }
  c.shutdown_write();
  EXPECT_EQ(c.expect_eof(), "");
  expect_clean_exit(*server, SIGTERM);
}

// 4 MiB in one send() (completed if it returns short) while a reader thread
// takes the echo.
TEST_P(EchoServerProcess, FourMebibytesInOneWrite) {
  auto server = start();
  ASSERT_TRUE(server);
  client c = connect();
  ASSERT_TRUE(c);
  constexpr std::size_t size = 4u << 20;
  std::vector<unsigned char> out(size);
  fill_pattern(seed_, 0, out.data(), size);
  std::string rerr;
  std::thread reader([&] { rerr = read_and_check(c, seed_, size); });
  ssize_t sent = ::send(c.fd(), out.data(), size, MSG_NOSIGNAL);
  int send_errno = errno;
  // A blocking send may still return short (POSIX allows it, and Linux does
  // so now and then under load): the rest follows, and the echo must be whole.
  EXPECT_GT(sent, 0) << "one blocking send of 4 MiB: " << errno_text(send_errno);
  if (sent < 0) sent = 0;  // the reader is running: finish the stream, then join
  if (static_cast<std::size_t>(sent) < size) {
    EXPECT_EQ(c.send_all(out.data() + sent, size - static_cast<std::size_t>(sent)), "");
  }
  c.shutdown_write();
  reader.join();
  EXPECT_EQ(rerr, "");
  expect_clean_exit(*server, SIGTERM);
}

// shutdown(SHUT_WR) after sending: everything sent comes back, then EOF.
TEST_P(EchoServerProcess, HalfCloseGetsEverythingBackThenEof) {
  auto server = start();
  ASSERT_TRUE(server);
  {
    SCOPED_TRACE("nothing sent");
    client c = connect();
    ASSERT_TRUE(c);
    c.shutdown_write();
    EXPECT_EQ(c.expect_eof(), "");
  }
  {
    // Small enough to sit in the socket buffers: send it all, shut down,
    // only then read.
    SCOPED_TRACE("64 KiB sent before reading");
    client c = connect();
    ASSERT_TRUE(c);
    constexpr std::size_t n = 64 << 10;
    std::vector<unsigned char> out(n);
    fill_pattern(seed_, 0, out.data(), n);
    ASSERT_EQ(c.send_all(out.data(), n), "");
    c.shutdown_write();
    EXPECT_EQ(read_and_check(c, seed_, n), "");  // reads to EOF and checks the length
    EXPECT_EQ(c.expect_eof(), "") << "end of stream is sticky";
  }
  {
    SCOPED_TRACE("2 MiB in 1..64 KiB messages, reading concurrently");
    client c = connect();
    ASSERT_TRUE(c);
    std::mt19937_64 rng(seed_);
    std::vector<std::size_t> sizes;
    for (std::size_t total = 0; total < (2u << 20);) {
      sizes.push_back(std::uniform_int_distribution<std::size_t>(1, 65536)(rng));
      total += sizes.back();
    }
    EXPECT_EQ(echo_stream(c, seed_ + 7, sizes), "");  // the writer shuts down, the reader needs EOF
  }
  expect_clean_exit(*server, SIGTERM);
}

// Many connections reset (SO_LINGER {1,0} + close) in the middle of a
// stream while others keep echoing; afterwards the server still accepts,
// still echoes, and has let go of every reset connection.
TEST_P(EchoServerProcess, ResetsMidStreamDoNotDisturbOthers) {
  auto server = start();
  ASSERT_TRUE(server);
  const int idle = idle_fds(*server);
  const int keepers = 16;
  const int victims = count(400, 40);
  const int resetters = 4;

  error_log errors;
  std::atomic<bool> stop{false};
  std::atomic<long> keeper_rounds{0};
  std::atomic<int> resets_done{0};
  std::vector<std::thread> ts;
  for (int k = 0; k < keepers; ++k)
    ts.emplace_back([&, k] {
      client c = client::connect(port_);
      if (!c) return errors.add("keeper " + std::to_string(k) + ": connect failed");
      std::mt19937_64 rng(seed_ + static_cast<std::uint64_t>(k));
      std::uint64_t off = 0;
      // Keep going until the resets are over, and at least a few rounds.
      for (int r = 0; !stop.load() || r < 5; ++r) {
        std::size_t n = std::uniform_int_distribution<std::size_t>(1, 16384)(rng);
        if (auto e = round_trip(c, seed_ + 500 + static_cast<std::uint64_t>(k), off, n); !e.empty())
          return errors.add("keeper " + std::to_string(k) + " round " + std::to_string(r) + ": " + e);
        off += n;
        keeper_rounds.fetch_add(1);
      }
      c.shutdown_write();
      if (auto e = c.expect_eof(); !e.empty()) errors.add("keeper " + std::to_string(k) + ": " + e);
    });
  std::vector<std::thread> rs;
  for (int t = 0; t < resetters; ++t)
    rs.emplace_back([&, t] {
      std::mt19937_64 rng(seed_ ^ (0xabcdull + static_cast<std::uint64_t>(t)));
      std::vector<unsigned char> buf(1 << 20);
      fill_pattern(seed_, 0, buf.data(), buf.size());
      for (int v = t; v < victims; v += resetters) {
        std::string err;
        client c = client::connect(port_, &err);
        if (!c) return errors.add("victim " + std::to_string(v) + ": " + err);
        // Mid-stream: push up to 1 MiB without waiting (the server is busy
        // echoing it, or stuck writing to full buffers) and read part of
        // the echo, then reset.
        std::size_t want = std::uniform_int_distribution<std::size_t>(1, buf.size())(rng), sent = 0;
        while (sent < want) {
          ssize_t k = ::send(c.fd(), buf.data() + sent, want - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (k <= 0) break;
          sent += static_cast<std::size_t>(k);
        }
        if (sent == 0) return errors.add("victim " + std::to_string(v) + ": could not send anything");
        if (v % 2 == 0) {
          // Wait for some of the echo, so the reset hits a connection
          // that is surely being served.
          unsigned char in[512];
          std::size_t n = std::min(sent, sizeof in);
          if (auto e = c.recv_exact(in, n); !e.empty())
            return errors.add("victim " + std::to_string(v) + ": " + e);
          if (pattern_mismatch(seed_, 0, in, n) >= 0)
            return errors.add("victim " + std::to_string(v) + ": echo differs");
        }
        c.reset();
        resets_done.fetch_add(1);
      }
    });
  for (auto& t : rs) t.join();
  stop.store(true);
  for (auto& t : ts) t.join();
  EXPECT_EQ(errors.count(), 0) << errors.summary();
  EXPECT_EQ(resets_done.load(), victims);
  EXPECT_GE(keeper_rounds.load(), keepers * 5);
  ASSERT_TRUE(server->running()) << "echo_server died: stderr: " << server->err();

  // Still serving: new connections echo.
  for (int i = 0; i < 20; ++i) {
    client c = connect();
    ASSERT_TRUE(c);
    std::vector<std::size_t> sizes{1, 4096, 65536};
    ASSERT_EQ(echo_stream(c, seed_ + 9000 + static_cast<std::uint64_t>(i), sizes), "") << "new connection " << i;
  }
  expect_fds_back_to(*server, idle);
  expect_clean_exit(*server, SIGTERM);
}

// A few thousand short connections: connect, echo, close -- closed in three
// ways (after the echo, half-close and wait for EOF, close with the echo
// unread).
TEST_P(EchoServerProcess, ConnectionChurn) {
  auto server = start();
  ASSERT_TRUE(server);
  const int idle = idle_fds(*server);
  const int cycles = count(3000, 300);
  const int threads = 4;
  error_log errors;
  std::atomic<int> ok{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      std::mt19937_64 rng(seed_ + static_cast<std::uint64_t>(t));
      for (int i = t; i < cycles; i += threads) {
        std::string err;
        client c = client::connect(port_, &err);
        if (!c) {
          errors.add("cycle " + std::to_string(i) + ": " + err);
          continue;
        }
        std::size_t n = std::uniform_int_distribution<std::size_t>(1, 512)(rng);
        std::uint64_t s = seed_ + static_cast<std::uint64_t>(i);
        switch (i % 3) {
          case 0:
            err = round_trip(c, s, 0, n);
            break;
          case 1:
            err = round_trip(c, s, 0, n);
            if (err.empty()) {
              c.shutdown_write();
              err = c.expect_eof();
            }
            break;
          default: {
            std::vector<unsigned char> out(n);
            fill_pattern(s, 0, out.data(), n);
            err = c.send_all(out.data(), n);
            break;  // closed with the echo (perhaps) unread: the kernel resets
          }
        }
        if (!err.empty())
          errors.add("cycle " + std::to_string(i) + ": " + err);
        else
          ok.fetch_add(1);
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(errors.count(), 0) << errors.summary();
  EXPECT_EQ(ok.load(), cycles);
  ASSERT_TRUE(server->running()) << "echo_server died: stderr: " << server->err();
  {
    client c = connect();
    ASSERT_TRUE(c);
    EXPECT_EQ(round_trip(c, seed_, 0, 1000), "") << "after the churn";
  }
  expect_fds_back_to(*server, idle);
  expect_clean_exit(*server, SIGTERM);
}

// SIGTERM and SIGINT with idle connections open: some that echoed once,
// some never used (perhaps not even accepted yet), one half-closed.
TEST_P(EchoServerProcess, SignalWithIdleConnectionsExitsZero) {
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(strsignal(sig));
    auto server = start();
    ASSERT_TRUE(server);
    std::vector<client> cs;
    for (int i = 0; i < 10; ++i) {
      cs.push_back(connect());
      ASSERT_TRUE(cs.back());
      ASSERT_EQ(round_trip(cs.back(), seed_, 0, 10), "");
    }
    for (int i = 0; i < 5; ++i) {
      cs.push_back(connect());
      ASSERT_TRUE(cs.back());
    }
    client half = connect();
    ASSERT_TRUE(half);
    ASSERT_EQ(round_trip(half, seed_, 0, 10), "");
    half.shutdown_write();
    expect_clean_exit(*server, sig);
    for (std::size_t i = 0; i < cs.size(); ++i) EXPECT_EQ(cs[i].expect_eof_or_reset(), "") << "connection " << i;
    EXPECT_EQ(half.expect_eof_or_reset(), "");
  }
}

// SIGTERM and SIGINT while data flows: one connection streaming both ways,
// one whose client does not read (the server is stuck writing to it), and
// idle ones. The server exits 0; the echo received up to the end is exact.
TEST_P(EchoServerProcess, SignalMidTransferExitsZero) {
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(strsignal(sig));
    auto server = start();
    ASSERT_TRUE(server);
    std::vector<client> idle;
    for (int i = 0; i < 5; ++i) {
      idle.push_back(connect());
      ASSERT_TRUE(idle.back());
      ASSERT_EQ(round_trip(idle.back(), seed_, 0, 10), "");
    }

    // The stalled one: fill the buffers both ways without reading.
    client stalled = connect();
    ASSERT_TRUE(stalled);
    {
      std::vector<unsigned char> buf(1 << 16);
      fill_pattern(seed_, 0, buf.data(), buf.size());
      std::size_t pushed = 0;
      int would_block = 0;
      auto end = steady::now() + scaled(10s);
      // Until sends keep failing with EAGAIN across pauses: the buffers are
      // full both ways and the server is blocked writing the echo back.
      while (would_block < 3 && steady::now() < end) {
        ssize_t k = ::send(stalled.fd(), buf.data(), buf.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k > 0) {
          pushed += static_cast<std::size_t>(k);
          would_block = 0;
          continue;
        }
        ASSERT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << errno_text(errno);
        ++would_block;
        std::this_thread::sleep_for(20ms);
      }
      ASSERT_EQ(would_block, 3) << "the stalled connection took " << pushed << " bytes and still takes more";
      ASSERT_GT(pushed, 0u);
    }

    // The streaming one.
    client active = connect();
    ASSERT_TRUE(active);
    const std::uint64_t aseed = seed_ + 77;
    std::atomic<std::uint64_t> received{0};
    std::string werr, rerr;
    std::thread writer([&] {
      std::vector<unsigned char> buf(16384);
      for (std::uint64_t off = 0;; off += buf.size()) {
        fill_pattern(aseed, off, buf.data(), buf.size());
        ssize_t k = ::send(active.fd(), buf.data(), buf.size(), MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) {
          // The server went away: EPIPE or ECONNRESET, not a timeout.
          if (errno != EPIPE && errno != ECONNRESET) werr = "send: " + errno_text(errno);
          return;
        }
        if (static_cast<std::size_t>(k) < buf.size()) {  // finish the chunk (rare)
          std::string e = active.send_all(buf.data() + k, buf.size() - static_cast<std::size_t>(k));
          if (!e.empty()) return;
        }
      }
    });
    std::thread reader([&] {
      std::vector<unsigned char> buf(65536);
      std::uint64_t off = 0;
      for (;;) {
        ssize_t k = active.recv_some(buf.data(), buf.size());
        if (k == 0) break;
        if (k < 0) {
          if (errno != ECONNRESET) rerr = "recv: " + errno_text(errno);
          break;
        }
        if (long long bad = pattern_mismatch(aseed, off, buf.data(), static_cast<std::size_t>(k)); bad >= 0) {
          rerr = "echoed byte " + std::to_string(bad) + " differs";
          break;
        }
        off += static_cast<std::uint64_t>(k);
        received.store(off);
      }
    });
    // Under way: a good MiB echoed.
    bool flowing = eventually([&] { return received.load() >= (1u << 20); }, scaled(10s));
    EXPECT_TRUE(flowing) << "only " << received.load() << " bytes echoed";

    expect_clean_exit(*server, sig);
    reader.join();
    active.abort_io();  // in case the writer is still blocked (it should have failed already)
    writer.join();
    EXPECT_EQ(werr, "");
    EXPECT_EQ(rerr, "");
    EXPECT_GE(received.load(), 1u << 20);
    EXPECT_EQ(stalled.expect_eof_or_reset(), "");
    for (auto& c : idle) EXPECT_EQ(c.expect_eof_or_reset(), "");
  }
}

// ---------------------------------------------------------------------------
// Command lines it refuses: status 2, a message naming the problem, usage.

TEST(EchoServerCommandLine, BadArgumentsExitTwoWithAMessage) {
  if (auto why = why_no_binary(); !why.empty()) GTEST_FAIL() << why;
  struct bad_case {
    std::vector<std::string> args;
    std::string message;
  };
  const bad_case cases[] = {
      {{}, "--port is required"},
      {{"--engine", "epoll"}, "--port is required"},
      {{"--port"}, "missing value after --port"},
      {{"--port", "70000"}, "--port must be 0..65535"},
      {{"--port", "-1"}, "--port must be 0..65535"},
      {{"--port", "12ab"}, "--port must be 0..65535"},
      {{"--port", "0", "--engine", "foo"}, "--engine must be io_uring or epoll"},
      {{"--port", "0", "--workers", "0"}, "--workers must be 1..1024"},
      {{"--port", "0", "--bogus", "1"}, "unknown option --bogus"},
      {{"--verbose", "--port", "0"}, "unknown option --verbose"},
  };
  for (const auto& c : cases) {
    std::string line;
    for (const auto& a : c.args) line += " " + a;
    SCOPED_TRACE("echo_server" + line);
    server_process p(c.args);
    ASSERT_EQ(p.spawn_error(), "");
    std::optional<int> st = p.wait_exit(scaled(10s));
    ASSERT_TRUE(st.has_value()) << "still running; killed. stdout: " << p.out();
    EXPECT_TRUE(WIFEXITED(*st) && WEXITSTATUS(*st) == 2) << describe_status(*st) << "\nstderr: " << p.err();
    EXPECT_NE(p.err().find("echo_server: " + c.message + "\n"), std::string::npos) << "stderr: " << p.err();
    EXPECT_NE(p.err().find("usage: echo_server --port P"), std::string::npos) << "stderr: " << p.err();
    EXPECT_EQ(p.out().find("listening"), std::string::npos) << "stdout: " << p.out();
  }
}

}  // namespace
