// A lock-free hand-off from many threads to one consumer that drains it in
// batches. Participants use it for their channel reports: the coordinator
// then handles a whole batch per CAF message instead of one message each.
//
// Usage:
//   handoff_stack<channel_report> finals;
//   // any thread:
//   if (finals.push(std::move(rep)))
//     notify_consumer();            // the stack was empty
//   // the consumer, once notified:
//   finals.drain([](channel_report& x) { handle(x); });
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>

namespace caf::snapshot::detail {

/// Multi-producer, single-consumer stack whose `drain` hands out the
/// elements in the order they were pushed. `push` tells the producer whether
/// it made the stack non-empty: exactly one producer per batch must notify
/// the consumer, and every notification finds the elements pushed before
/// it (or an empty stack, if an earlier drain took them).
///
/// Thread safety: `push` from any thread; `drain` from one thread at a time.
template <class T>
class handoff_stack {
public:
  handoff_stack() = default;

  handoff_stack(const handoff_stack&) = delete;

  handoff_stack& operator=(const handoff_stack&) = delete;

  ~handoff_stack() {
    drop(top_.exchange(nullptr, std::memory_order_acquire));
  }

  /// Adds `x`. Returns `true` if the stack was empty, i.e., the caller must
  /// notify the consumer.
  bool push(T x) {
    auto n = new node{std::move(x), nullptr};
    auto head = top_.load(std::memory_order_relaxed);
    do {
      n->next = head;
    } while (!top_.compare_exchange_weak(head, n, std::memory_order_release,
                                         std::memory_order_relaxed));
    return head == nullptr;
  }

  /// Takes every element pushed so far and calls `f` on each, oldest first.
  /// Returns the number of elements.
  template <class F>
  size_t drain(F f) {
    node* reversed = nullptr;
    size_t count = 0;
    for (auto n = top_.exchange(nullptr, std::memory_order_acquire);
         n != nullptr; ++count) {
      auto next = n->next;
      n->next = reversed;
      reversed = n;
      n = next;
    }
    // Frees what `f` did not get to if it throws.
    struct rest_guard {
      node*& rest;
      ~rest_guard() {
        drop(rest);
      }
    } guard{reversed};
    while (reversed != nullptr) {
      std::unique_ptr<node> current{reversed};
      reversed = reversed->next;
      f(current->value);
    }
    return count;
  }

  /// Whether nothing is waiting (a snapshot of a moving target).
  bool empty() const noexcept {
    return top_.load(std::memory_order_acquire) == nullptr;
  }

private:
  struct node {
    T value;
    node* next;
  };

  static void drop(node* n) {
    while (n != nullptr) {
      auto next = n->next;
      delete n;
      n = next;
    }
  }

  std::atomic<node*> top_{nullptr};
};

} // namespace caf::snapshot::detail
