// The program tests/gdb/gdb_test.py debugs: a green thread parked on a
// channel in a function with a known name, and the root stopped in another
// (the test's breakpoint) once the first is surely parked. Ids are fixed:
// the root is green thread 1, the waiter 2.
#include <cstdio>

#include "weft/weft.hpp"

extern "C" __attribute__((noinline)) int weft_gdb_parked_here(weft::channel<int>* ch) {
  int v = ch->recv().value();
  asm volatile("" ::: "memory");  // keeps the frame: no tail call
  return v;
}

// The breakpoint: reached only when the waiter is blocked in weft_gdb_parked_here.
extern "C" __attribute__((noinline)) void weft_gdb_stop_here() { asm volatile("" ::: "memory"); }

int main() {
  weft::options o;
  o.workers = 2;
  return weft::run(o, [] {
    weft::channel<int> ch(0);
    weft::spawn_attrs a;
    a.name = "gdb-waiter";
    auto t = weft::spawn([&] { return weft_gdb_parked_here(&ch); }, a);
    for (;;) {
      auto snap = weft::snapshot();
      bool parked = false;
      for (const auto& i : snap)
        parked |= i.id == t.id() && i.state == weft::thread_state::blocked &&
                  i.waiting_for == weft::wait_reason::channel_recv;
      if (parked) break;
      weft::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    weft_gdb_stop_here();
    if (!ch.send(41).ok()) return 1;
    return t.join() == 41 ? 0 : 1;
  });
}
