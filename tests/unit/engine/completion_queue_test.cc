#include "completion_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace sluice::engine {
namespace {

TEST(CompletionQueue, APushFromAnotherThreadWakesTheOwnerOnce) {
  CompletionQueue queue;
  std::atomic<int> wakes{0};
  queue.set_wake_hook([&] { ++wakes; }, std::this_thread::get_id());
  std::thread([&] {
    queue.push(1, 0, Outcome::ok({}));
    queue.push(2, 0, Outcome::ok({}));
  }).join();
  EXPECT_EQ(wakes, 1);  // the second found the queue non-empty
  std::vector<Completed> out;
  queue.drain(out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].task_id, 1u);
}

// Defect 5: the wake hook held the consumer's queue, destroyed before the
// stage was closed, so a stage finishing late woke freed memory. Once
// clear_wake_hook() returns, no push calls the hook, even one racing it.
TEST(CompletionQueue, NoPushCallsTheHookOnceItIsCleared) {
  CompletionQueue queue;
  std::atomic<bool> cleared{false};
  std::atomic<int> wakes_after_clear{0};
  queue.set_wake_hook([&] { wakes_after_clear += cleared.load() ? 1 : 0; },
                      std::this_thread::get_id());
  std::atomic<bool> stop{false};
  std::thread pusher([&] {
    for (uint64_t id = 0; !stop; ++id) queue.push(id, 0, Outcome::ok({}));
  });
  std::vector<Completed> out;
  for (int i = 0; i < 1000; ++i) queue.drain(out);  // keeps it empty, so pushes wake
  queue.clear_wake_hook();
  cleared = true;
  for (int i = 0; i < 1000; ++i) queue.drain(out);
  stop = true;
  pusher.join();
  EXPECT_EQ(wakes_after_clear, 0);
}

}  // namespace
}  // namespace sluice::engine
