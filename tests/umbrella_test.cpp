// <weft/weft.hpp> alone brings everything docs/api.md describes, the I/O
// layer and weft::blocking included (this file includes nothing else of weft).
#include <weft/weft.hpp>

#include <gtest/gtest.h>

namespace {

TEST(Umbrella, BringsBlockingAndIo) {
  int r = weft::run({.workers = 1}, [] {
    int v = weft::blocking([] { return 40; });
    auto sockets = weft::io::socket::pair();
    char c = 2;
    sockets.first.write(&c, 1, weft::io::deadline::none());
    char got = 0;
    if (sockets.second.read(&got, 1) != 1) return -1;
    return v + got;
  });
  EXPECT_EQ(r, 42);
}

}  // namespace
