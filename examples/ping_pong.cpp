// Direct communication, the send(P, msg) / receive(Q, msg) of the OS notes:
// two green threads address each other by thread id through their
// mailboxes, and a third learns that a thread that has ended cannot be sent
// to (the message comes back).
//
// Usage: ping_pong [rounds]   (default 100000)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "weft/mailbox.hpp"
#include "weft/weft.hpp"

namespace {

// What the two players exchange.
struct ball {
  int hits;
};

}  // namespace

int main(int argc, char** argv) {
  int rounds = argc > 1 ? std::atoi(argv[1]) : 100000;
  if (rounds <= 0) {
    std::fprintf(stderr, "usage: ping_pong [rounds > 0]\n");
    return 2;
  }
  return weft::run({.workers = 1, .stall_threshold = std::chrono::milliseconds(100)}, [&] {
    // The pong thread is spawned with its mailbox open, so the first serve
    // below cannot arrive before it exists.
    auto pong = weft::spawn_with_mailbox<ball>(
        [] {
          for (;;) {
            auto m = weft::receive<ball>();  // m->from: who sent it
            if (m->body.hits < 0) return;
            (void)weft::send(m->from, ball{m->body.hits + 1});
          }
        },
        {.name = "pong"});

    weft::open_mailbox<ball>();  // the caller's own, for the returns
    auto t0 = std::chrono::steady_clock::now();
    int hits = 0;
    for (int i = 0; i < rounds; ++i) {
      (void)weft::send(pong.id(), ball{hits + 1});
      auto back = weft::receive_from<ball>(pong.id());  // only pong's replies
      hits = back->body.hits;
    }
    auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    std::printf("ping_pong: %d rounds, %d hits, %.0f ns per round trip (send + receive, both ways)\n", rounds, hits,
                ns / rounds);

    weft::thread_id gone = pong.id();
    (void)weft::send(gone, ball{-1});
    pong.join();
    auto r = weft::send(gone, ball{7});
    std::printf("ping_pong: send to ended thread %llu -> %s, ball with %d hits handed back\n",
                static_cast<unsigned long long>(gone), weft::to_string(r.status()), r.message().hits);
    return hits == 2 * rounds && r.status() == weft::op_status::closed ? 0 : 1;
  });
}
