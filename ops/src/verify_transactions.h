// Transactions left open, as `sluice verify` reports them: partitions whose
// last stable offset stays below the high watermark they had at a first
// look. A transaction about to commit is not one: the check looks again
// until each partition's stable end passed that watermark or `wait` ran out,
// so only a transaction open at the first look and still open at the last
// is reported (one opened in between is not: its partition's stable end
// moved past what was there).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "sluice/end_offsets.h"
#include "sluice/status.h"

namespace sluice::ops {

// Of the partitions in `first` with a transaction open, those whose stable
// end in `now` is still below the high watermark of `first`. Pure.
std::vector<PartitionEnd> still_open(const std::vector<PartitionEnd>& first,
                                     const std::vector<PartitionEnd>& now);

// Partitions of `topics` with a transaction open now and still open after
// up to `wait` (each partition as of its first look).
Result<std::vector<PartitionEnd>> open_transactions(EndOffsetReader& reader,
                                                    const std::vector<std::string>& topics,
                                                    std::chrono::milliseconds wait);

// "p.done[2]": a partition, for messages.
std::string partition_name(const PartitionEnd& end);

}  // namespace sluice::ops
