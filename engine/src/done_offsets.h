// Offsets completed beyond the committed position, carried in the commit's
// metadata string.
//
// Tasks of different keys finish out of order, so when a partition changes
// hands (rebalance, graceful stop) some offsets above the committed
// next_offset are already done. Kafka commits one position per partition,
// but each commit carries a metadata string: Sluice writes those offsets
// there ("sluice1:" then comma-separated deltas from next_offset, "d" or
// "d-e" ranges), and whoever takes the partition next skips them instead of
// running them twice. Bounded by the broker's offset.metadata.max.bytes
// (4096 by default): offsets that do not fit are simply rerun.
//
// The same string says, while a worker's circuit breaker is not closed,
// until when that holds (";circuit_until=<unix ms>", refreshed at every
// commit meanwhile): `sluice status` reads it from the committed offsets, so
// a worker that died with its circuit open stops counting once that passes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "partition_offsets.h"

namespace sluice::engine {

inline constexpr size_t kMaxDoneOffsetsBytes = 3000;

// `done` ascending and disjoint, all >= next_offset. `circuit_until_unix_ms`
// > 0: the circuit is open (or probing) until then.
std::string encode_done_offsets(int64_t next_offset, const std::vector<OffsetRange>& done,
                                size_t max_bytes = kMaxDoneOffsetsBytes,
                                int64_t circuit_until_unix_ms = 0);
// The circuit's "until" in `metadata`, or 0 when it says nothing of it.
int64_t decode_circuit_until(std::string_view metadata);
// Ranges (ascending, disjoint) named by `metadata`, never expanded into single
// offsets; empty for anything not ours or malformed.
std::vector<OffsetRange> decode_done_offsets(int64_t next_offset, std::string_view metadata);

}  // namespace sluice::engine
