// The benchmarks' summary: per variant, the median, min and max records/s
// of its timed runs, and the ratio of two variants, as a Markdown table on
// stdout (what bench/README.md records); and the line each run prints on
// stderr as it ends. Formatting and bookkeeping; no Kafka.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sluice/status.h"

#include "timed_run.h"

namespace sluice::bench {

struct Series {
  const char* name;
  std::vector<RunTiming> runs;  // timed runs only, in order
};

// A series may be empty (--only): it is left out, and so is the ratio
// variant/base (`target`: the figure the ratio should reach). Runs of the
// two series pair up by index (they alternated).
void print_report(const Series& base, const Series& variant, int64_t records, double target);

struct Summary {
  double median, min, max;
};
Summary summarize(std::vector<double> values);  // values: not empty

// "warm-up N" for the first `warmup` runs, then "run N" counting again from 1.
std::string run_label(int run, int warmup);

// Prints the run's line on stderr (a failed run: its error, prefixed with
// the series and the run) and adds a timed run, past the warm-up, to
// `series`.
Status record_run(Series& series, int run, int warmup, int64_t records,
                  Result<RunTiming> timing);

}  // namespace sluice::bench
