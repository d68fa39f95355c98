// The lock-free hand-off of channel reports from participants to their
// coordinator: order, the "made it non-empty" signal that drives the
// coordinator's drain messages, concurrent producers, and cleanup.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "caf/snapshot/detail/handoff_stack.hpp"

using caf::snapshot::detail::handoff_stack;

TEST(handoff_stack, only_the_push_onto_an_empty_stack_asks_for_a_drain) {
  handoff_stack<int> xs;
  EXPECT_TRUE(xs.empty());
  EXPECT_TRUE(xs.push(1));
  EXPECT_FALSE(xs.push(2));
  EXPECT_FALSE(xs.push(3));
  EXPECT_FALSE(xs.empty());
  std::vector<int> seen;
  EXPECT_EQ(xs.drain([&](int x) { seen.push_back(x); }), 3u);
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(xs.empty());
  // Drained: the next push asks again; draining nothing is harmless.
  EXPECT_TRUE(xs.push(4));
  seen.clear();
  EXPECT_EQ(xs.drain([&](int x) { seen.push_back(x); }), 1u);
  EXPECT_EQ(xs.drain([&](int x) { seen.push_back(x); }), 0u);
  EXPECT_EQ(seen, (std::vector<int>{4}));
}

TEST(handoff_stack, elements_left_behind_are_freed) {
  // Checked by ASan in CI: nothing leaks.
  handoff_stack<std::string> xs;
  xs.push(std::string(100, 'a'));
  xs.push(std::string(100, 'b'));
}

TEST(handoff_stack, a_throwing_consumer_loses_no_memory) {
  handoff_stack<std::string> xs;
  for (int i = 0; i < 5; ++i)
    xs.push(std::string(100, static_cast<char>('a' + i)));
  int calls = 0;
  EXPECT_THROW(xs.drain([&](std::string&) {
    if (++calls == 2)
      throw std::runtime_error("consumer failed");
  }),
               std::runtime_error);
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(xs.empty());
}

// Four producers push concurrently while the consumer drains whenever a
// producer reports that it made the stack non-empty, as the coordinator
// does on `drain_atom`. Every element arrives exactly once, each producer's
// elements in order, and no notification is lost: after the last one,
// nothing is left behind.
TEST(handoff_stack, concurrent_producers_lose_nothing_and_keep_their_order) {
  constexpr int producers = 4;
  constexpr int per_producer = 20000;
  struct item {
    int producer;
    int seq;
  };
  handoff_stack<item> xs;
  std::mutex mtx;
  std::condition_variable cv;
  int notifications = 0;
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p)
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i)
        if (xs.push(item{p, i})) {
          std::lock_guard<std::mutex> guard{mtx};
          ++notifications;
          cv.notify_one();
        }
    });
  std::vector<int> next(producers, 0);
  int received = 0;
  int handled_notifications = 0;
  bool in_order = true;
  while (received < producers * per_producer) {
    {
      std::unique_lock<std::mutex> guard{mtx};
      ASSERT_TRUE(cv.wait_for(guard, std::chrono::seconds{60}, [&] {
        return notifications > handled_notifications;
      })) << "a notification was lost after " << received << " elements";
      handled_notifications = notifications;
    }
    xs.drain([&](item& x) {
      in_order = in_order && x.seq == next[x.producer];
      next[x.producer] = x.seq + 1;
      ++received;
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_TRUE(in_order);
  EXPECT_EQ(received, producers * per_producer);
  EXPECT_TRUE(xs.empty());
  for (int p = 0; p < producers; ++p)
    EXPECT_EQ(next[p], per_producer);
}
