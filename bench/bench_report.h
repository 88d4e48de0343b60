// The benchmark's summary: per variant, the median, min and max records/s
// of its timed runs, and the ratio sluice/plain, as a Markdown table on
// stdout (what bench/README.md records). Pure formatting; no Kafka.
#pragma once

#include <cstdint>
#include <vector>

#include "timed_run.h"

namespace sluice::bench {

struct Series {
  const char* name;
  std::vector<RunTiming> runs;  // timed runs only, in order
};

// A series may be empty (--only): it is left out, and so is the ratio.
// Runs of the two series pair up by index (they alternated).
void print_report(const Series& plain, const Series& sluice, int64_t records);

}  // namespace sluice::bench
