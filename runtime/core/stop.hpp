// Layer 3: a green thread's stop state (cancellation).
//
// The std::stop_source lives in the TCB's cold extension (tcb.hpp), made
// lazily: at spawn for a callable taking a std::stop_token, or the first
// time someone asks for the thread's token or source (its handle, or the
// thread itself). Threads that never do carry none, and park() only looks
// for it in its cancellable variant (park.hpp), one branch on a null
// pointer. A stop request wakes the thread's cancellable waits through the
// waiter's status CAS (park.cpp).
#pragma once

#include <stop_token>

namespace weft::detail {

struct tcb;

// t's stop source, made now if t has none yet and `create` is set; null if
// it has none and `create` is not set. The pointer stays valid while t lives.
std::stop_source* stop_source_of(tcb* t, bool create);

// True if t has a stop state and stop was requested on it.
bool stop_requested_on(const tcb* t) noexcept;

// Links child's stop state to parent's (both made if missing): a request on
// the parent requests stop on the child too, at once if the parent's was
// requested already. Called by the spawner before child is admitted.
// Throws std::bad_alloc only.
void link_stop_to_parent(tcb* parent, tcb* child);

// Drops t's link to its parent's stop state (t is ending); waits for a
// request that is running the link on another thread.
void unlink_stop_from_parent(tcb* t) noexcept;

}  // namespace weft::detail
