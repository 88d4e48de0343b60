#include "verify_transactions.h"

#include <map>
#include <thread>
#include <utility>

namespace sluice::ops {
namespace {

constexpr std::chrono::milliseconds kLookAgainEvery{200};

}  // namespace

std::vector<PartitionEnd> still_open(const std::vector<PartitionEnd>& first,
                                     const std::vector<PartitionEnd>& now) {
  std::map<std::pair<std::string, int32_t>, int64_t> stable_now;
  for (const PartitionEnd& end : now) stable_now[{end.topic, end.partition}] = end.stable_end;
  std::vector<PartitionEnd> open;
  for (const PartitionEnd& end : first) {
    if (!end.transaction_open()) continue;
    auto it = stable_now.find({end.topic, end.partition});
    if (it == stable_now.end() || it->second < end.high_watermark) open.push_back(end);
  }
  return open;
}

Result<std::vector<PartitionEnd>> open_transactions(EndOffsetReader& reader,
                                                    const std::vector<std::string>& topics,
                                                    std::chrono::milliseconds wait) {
  auto first = reader.list(topics);
  if (!first.is_ok()) return first.status();
  std::vector<PartitionEnd> open = still_open(*first, *first);
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (!open.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        kLookAgainEvery, deadline - std::chrono::steady_clock::now()));
    std::vector<std::string> open_topics;
    for (const PartitionEnd& end : open) {
      if (open_topics.empty() || open_topics.back() != end.topic) open_topics.push_back(end.topic);
    }
    auto now = reader.list(open_topics);
    if (!now.is_ok()) return now.status();
    open = still_open(open, *now);
  }
  return open;
}

std::string partition_name(const PartitionEnd& end) {
  return end.topic + "[" + std::to_string(end.partition) + "]";
}

}  // namespace sluice::ops
