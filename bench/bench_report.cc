#include "bench_report.h"

#include <algorithm>
#include <cstdio>
#include <functional>

namespace sluice::bench {
namespace {

struct Summary {
  double median, min, max;
};

Summary summarize(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return {median, values.front(), values.back()};
}

Summary summarize(const Series& series, const std::function<double(const RunTiming&)>& of) {
  std::vector<double> values;
  for (const RunTiming& t : series.runs) values.push_back(of(t));
  return summarize(values);
}

void print_row(const Series& series, int64_t records) {
  Summary rate =
      summarize(series, [&](const RunTiming& t) { return t.records_per_second(records); });
  Summary first = summarize(series, [](const RunTiming& t) { return t.first_output_seconds; });
  Summary cpu =
      summarize(series, [&](const RunTiming& t) { return t.cpu_seconds * 1e6 / records; });
  Summary loop_cpu =
      summarize(series, [&](const RunTiming& t) { return t.loop_cpu_seconds * 1e6 / records; });
  std::printf("| %s | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f |\n", series.name, rate.median,
              rate.min, rate.max, first.median, cpu.median, loop_cpu.median);
}

void print_ratio(const Series& plain, const Series& sluice, int64_t records) {
  auto rate = [&](const RunTiming& t) { return t.records_per_second(records); };
  double medians = summarize(sluice, rate).median / summarize(plain, rate).median;
  std::vector<double> pairs;  // neighbours in time, so slow drift cancels
  for (size_t i = 0; i < plain.runs.size() && i < sluice.runs.size(); ++i) {
    pairs.push_back(plain.runs[i].seconds / sluice.runs[i].seconds);
  }
  Summary pair = summarize(pairs);
  std::printf(
      "\nratio sluice/plain (of the medians): %.2fx; per pair: median %.2fx, "
      "min %.2fx, max %.2fx (target: 0.85x or better)\n",
      medians, pair.median, pair.min, pair.max);
}

}  // namespace

void print_report(const Series& plain, const Series& sluice, int64_t records) {
  std::printf(
      "| variant | records/s (median) | min | max | first output after, s (median) | "
      "client CPU, us/record (median) | loop thread CPU, us/record (median) |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const Series* series : {&plain, &sluice}) {
    if (!series->runs.empty()) print_row(*series, records);
  }
  if (!plain.runs.empty() && !sluice.runs.empty()) print_ratio(plain, sluice, records);
}

}  // namespace sluice::bench
