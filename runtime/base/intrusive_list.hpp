// The doubly linked list every wait queue and channel queue uses: nodes live
// on the waiting thread's stack and carry next/prev/linked; a list is a
// head/tail pair. One implementation for wait_queue/waiter (park.hpp) and
// chan_list/chan_node (msg/chan_core.cpp).
#pragma once

namespace weft::detail {

// Appends n to l.
template <class List, class Node>
void ilist_push_back(List& l, Node& n) noexcept {
  n.next = nullptr;
  n.prev = l.tail;
  if (l.tail) l.tail->next = &n;
  else l.head = &n;
  l.tail = &n;
  n.linked = true;
}

// Prepends n to l.
template <class List, class Node>
void ilist_push_front(List& l, Node& n) noexcept {
  n.prev = nullptr;
  n.next = l.head;
  if (l.head) l.head->prev = &n;
  else l.tail = &n;
  l.head = &n;
  n.linked = true;
}

// Removes n, which must be linked into l.
template <class List, class Node>
void ilist_unlink(List& l, Node& n) noexcept {
  if (n.prev) n.prev->next = n.next;
  else l.head = n.next;
  if (n.next) n.next->prev = n.prev;
  else l.tail = n.prev;
  n.next = n.prev = nullptr;
  n.linked = false;
}

}  // namespace weft::detail
