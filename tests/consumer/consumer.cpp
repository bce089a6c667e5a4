// Checks that an installed weft package is complete: headers, the library,
// its link dependencies and the version header all come from the install
// (or from the weft build the consumer project includes). Prints
// "weft <version> <context backend> OK".

// The consumer projects set no C++ standard: weft::weft's cxx_std_20 (or
// pkg-config users' own -std=c++20) must have made this C++20.
static_assert(__cplusplus >= 202002L, "weft::weft must compile its users as C++20");

#include <weft/version.hpp>
#include <weft/weft.hpp>

#include <cstdio>
#include <mutex>
#include <vector>

int main() {
  return weft::run({.workers = 2}, [] {
    weft::mutex mu;
    weft::wait_group wg;
    long total = 0;
    std::vector<weft::thread<int>> ts;
    for (int i = 1; i <= 1000; ++i) {
      wg.add();
      ts.push_back(weft::spawn([&, i] {
        weft::this_thread::yield();
        std::lock_guard lk(mu);
        total += i;
        wg.done();
        return i;
      }));
    }
    wg.wait();
    long joined = 0;
    for (auto& t : ts) joined += t.join();
    bool ok = total == 500500 && joined == 500500;
    std::printf("weft %s %s %s\n", WEFT_VERSION_STRING, weft::runtime::context_backend(),
                ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
  });
}
