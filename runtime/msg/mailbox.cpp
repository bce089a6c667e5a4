// Mailboxes: a registry from (runtime, thread id) to mailbox, and the hook
// that closes a mailbox when its thread ends.
//
// Lifetime. A mailbox is reference-counted: its owner thread holds one
// (through a green-thread-local, so the thread's end runs mb_owner_gone),
// the registry holds one while it is registered, and a sender holds one for
// the duration of its send. Messages travel through the mailbox's chan_core,
// so blocking, timeouts, close and "receive from this sender" (a filtered
// receive) are the channel protocol.
//
// spawn_with_mailbox races two parties: the spawner registers the mailbox
// under the new thread's id (so a send right after spawn finds it), and the
// new thread may run - even end - first. Both sides meet under the shard
// lock: the owner's end marks the mailbox dead and unregisters it; a
// registration that comes later sees `dead` and does nothing.
//
// Registration never allocates where it could fail halfway: the registry is
// an intrusive chained hash table per shard; growing its bucket array is
// attempted and, if memory is short, skipped (chains just get longer).
#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "core/runtime_impl.hpp"
#include "base/spinlock.hpp"
#include "core/tcb.hpp"
#include "core/thread_label.hpp"
#include "weft/local.hpp"
#include "weft/mailbox.hpp"
#include "core/worker.hpp"

namespace weft::detail {
namespace {

struct shard {
  spinlock lock;
  std::vector<mailbox_base*> buckets;  // chains through mailbox_base::hnext
  std::size_t count = 0;
};

// 64 shards: registrations from many workers rarely meet on one lock.
constexpr std::size_t nshards = 64;
shard g_shards[nshards];

std::uint64_t hash_key(const void* rt_key, thread_id id) noexcept {
  std::uint64_t h = id * 0x9E3779B97F4A7C15ull ^ reinterpret_cast<std::uintptr_t>(rt_key) * 0xC2B2AE3D27D4EB4Full;
  return h ^ (h >> 29);
}

shard& shard_of(std::uint64_t h) noexcept { return g_shards[h % nshards]; }

mailbox_base*& bucket_of(shard& s, std::uint64_t h) noexcept { return s.buckets[(h / nshards) % s.buckets.size()]; }

void maybe_grow(shard& s) noexcept {
  if (s.count < s.buckets.size()) return;
  std::vector<mailbox_base*> fresh;
  try {
    fresh.assign(s.buckets.empty() ? 16 : s.buckets.size() * 2, nullptr);
  } catch (const std::bad_alloc&) {
    return;  // keep the old table; chains grow longer
  }
  std::swap(fresh, s.buckets);
  for (mailbox_base* head : fresh) {
    while (mailbox_base* b = head) {
      head = b->hnext;
      mailbox_base*& slot = bucket_of(s, hash_key(b->rt_key, b->owner));
      b->hnext = slot;
      slot = b;
    }
  }
}

// Under the shard lock.
void insert(shard& s, mailbox_base* b, std::uint64_t h) noexcept {
  maybe_grow(s);
  if (s.buckets.empty()) {
    // Not even the first table could be had: refuse quietly; sends then fail with closed.
    return;
  }
  mailbox_base*& slot = bucket_of(s, h);
  b->hnext = slot;
  slot = b;
  b->registered = true;
  ++s.count;
  mb_ref(b);
}

// Under the shard lock; true if b was registered (the caller drops the registry's reference).
bool erase(shard& s, mailbox_base* b, std::uint64_t h) noexcept {
  if (!b->registered) return false;
  for (mailbox_base** p = &bucket_of(s, h); *p; p = &(*p)->hnext) {
    if (*p == b) {
      *p = b->hnext;
      b->hnext = nullptr;
      b->registered = false;
      --s.count;
      return true;
    }
  }
  return false;
}

// The green-thread-local slot: its destructor runs when the thread ends.
struct holder {
  mailbox_base* box = nullptr;
  holder() = default;
  holder(const holder&) = delete;
  holder& operator=(const holder&) = delete;
  ~holder() {
    if (box) mb_owner_gone(box);
  }
};

local<holder>& holder_local() {
  static local<holder> l;
  return l;
}

std::string type_name(const std::type_info& t) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && d ? std::string(d.get()) : std::string(t.name());
}

// Sets b's key to the calling green thread and registers it.
void register_self(mailbox_base* b, tcb* self) noexcept {
  const void* rt_key = &self->rt();
  std::uint64_t h = hash_key(rt_key, self->id);
  shard& s = shard_of(h);
  std::lock_guard lk(s.lock);
  // The spawner may be registering the same mailbox under the same key right now.
  b->rt_key = rt_key;
  b->owner = self->id;
  if (!b->dead && !b->registered) insert(s, b, h);
}

}  // namespace

void mb_ref(mailbox_base* b) noexcept { b->refs.fetch_add(1, std::memory_order_relaxed); }

void mb_unref(mailbox_base* b) noexcept {
  if (b->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete b;
}

void mb_owner_gone(mailbox_base* b) noexcept {
  // Close first: blocked senders get their message back, later ones fail.
  b->core().close();
  bool was_registered = false;
  if (b->rt_key) {
    std::uint64_t h = hash_key(b->rt_key, b->owner);
    shard& s = shard_of(h);
    std::lock_guard lk(s.lock);
    b->dead = true;
    was_registered = erase(s, b, h);
  } else {
    // Never keyed: spawn_with_mailbox threw before registering, so no
    // registration can follow.
    b->dead = true;
  }
  if (was_registered) mb_unref(b);
  mb_unref(b);
}

void mb_open(mailbox_base* b) {
  tcb* self = current_tcb();
  if (!self) {
    mb_unref(b);
    throw error(errc::invalid_state, "open_mailbox: a foreign kernel thread has no thread id to be sent to");
  }
  holder& h = holder_local().get();
  if (h.box) {
    mb_unref(b);
    throw error(errc::invalid_state,
                "open_mailbox: " + thread_label(self) + " already has a mailbox (of " +
                    type_name(h.box->type) + ")");
  }
  h.box = b;
  register_self(b, self);
}

void mb_adopt(mailbox_base* b) noexcept {
  register_self(b, current_tcb());
  try {
    holder_local().get().box = b;
  } catch (...) {
    // No memory for the local that would close it at exit: close it now, so
    // senders get closed instead of filling a mailbox nobody reads.
    mb_owner_gone(b);
  }
}

void mb_register_spawned(mailbox_base* b, tcb* t) noexcept {
  const void* rt_key = &t->rt();
  thread_id id = t->id;
  std::uint64_t h = hash_key(rt_key, id);
  shard& s = shard_of(h);
  std::lock_guard lk(s.lock);
  if (b->dead || b->registered) return;
  b->rt_key = rt_key;
  b->owner = id;
  insert(s, b, h);
}

mailbox_base* mb_find(thread_id to) {
  tcb* self = current_tcb();
  const void* rt_key = self ? static_cast<const void*>(&self->rt()) : runtime_for_caller();
  if (!rt_key)
    throw error(errc::no_runtime,
                "weft::send: from a foreign thread, exactly one weft::runtime must be alive to name thread " +
                    std::to_string(to));
  std::uint64_t h = hash_key(rt_key, to);
  shard& s = shard_of(h);
  std::lock_guard lk(s.lock);
  if (s.buckets.empty()) return nullptr;
  for (mailbox_base* b = bucket_of(s, h); b; b = b->hnext) {
    if (b->owner == to && b->rt_key == rt_key) {
      mb_ref(b);
      return b;
    }
  }
  return nullptr;
}

mailbox_base* mb_self(const char* what) {
  tcb* self = current_tcb();
  if (!self) throw error(errc::invalid_state, std::string(what) + ": a foreign kernel thread has no mailbox");
  holder& h = holder_local().get();
  if (!h.box)
    throw error(errc::invalid_state, std::string(what) + ": " + thread_label(self) +
                                         " has no mailbox (open_mailbox<T>() or spawn_with_mailbox<T>)");
  return h.box;
}

void mb_wrong_type(const char* what, thread_id tid, const std::type_info& have, const std::type_info& want) {
  throw error(errc::invalid_argument, std::string(what) + ": the mailbox of " + thread_label(tid, nullptr) +
                                          " holds " + type_name(have) + ", not " + type_name(want));
}

thread_id mb_self_id() noexcept {
  tcb* self = current_tcb();
  return self ? self->id : 0;
}

}  // namespace weft::detail

namespace weft {

void close_mailbox() { detail::mb_self("weft::close_mailbox")->core().close(); }

bool has_mailbox() noexcept {
  if (!detail::current_tcb()) return false;
  try {
    return detail::holder_local().get().box != nullptr;
  } catch (...) {
    return false;
  }
}

}  // namespace weft
