#include "bench_report.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>

namespace sluice::bench {

Summary summarize(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  double median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  return {median, values.front(), values.back()};
}

namespace {

Summary over_runs(const Series& series, const std::function<double(const RunTiming&)>& of) {
  std::vector<double> values;
  for (const RunTiming& t : series.runs) values.push_back(of(t));
  return summarize(values);
}

void print_row(const Series& series, int64_t records) {
  Summary rate =
      over_runs(series, [&](const RunTiming& t) { return t.records_per_second(records); });
  Summary first = over_runs(series, [](const RunTiming& t) { return t.first_output_seconds; });
  Summary cpu =
      over_runs(series, [&](const RunTiming& t) { return t.cpu_seconds * 1e6 / records; });
  Summary loop_cpu =
      over_runs(series, [&](const RunTiming& t) { return t.loop_cpu_seconds * 1e6 / records; });
  std::printf("| %s | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f |\n", series.name, rate.median,
              rate.min, rate.max, first.median, cpu.median, loop_cpu.median);
}

void print_ratio(const Series& base, const Series& variant, int64_t records, double target) {
  auto rate = [&](const RunTiming& t) { return t.records_per_second(records); };
  double medians = over_runs(variant, rate).median / over_runs(base, rate).median;
  std::vector<double> pairs;  // neighbours in time, so slow drift cancels
  for (size_t i = 0; i < base.runs.size() && i < variant.runs.size(); ++i) {
    pairs.push_back(base.runs[i].seconds / variant.runs[i].seconds);
  }
  Summary pair = summarize(pairs);
  std::printf("\nratio %s/%s (of the medians): %.2fx; per pair:", variant.name, base.name,
              medians);
  for (double ratio : pairs) std::printf(" %.2fx", ratio);
  std::printf(" (median %.2fx, min %.2fx, max %.2fx; target: %.2fx or better)\n", pair.median,
              pair.min, pair.max, target);
}

}  // namespace

std::string run_label(int run, int warmup) {
  if (run <= warmup) return "warm-up " + std::to_string(run);
  return "run " + std::to_string(run - warmup);
}

Status record_run(Series& series, int run, int warmup, int64_t records,
                  Result<RunTiming> timing) {
  if (!timing.is_ok()) {
    return Status(timing.status().code(), std::string(series.name) + " " +
                                              run_label(run, warmup) + ": " +
                                              timing.status().message());
  }
  const RunTiming& t = *timing;
  std::fprintf(stderr,
               "%s %-6s: %.0f records/s (%.2f s; first output after %.2f s; "
               "%.2f us CPU/record, %.2f of it the loop thread's; %lld extra records)\n",
               run_label(run, warmup).c_str(), series.name, t.records_per_second(records),
               t.seconds, t.first_output_seconds, t.cpu_seconds * 1e6 / records,
               t.loop_cpu_seconds * 1e6 / records, static_cast<long long>(t.extra_records));
  if (run > warmup) series.runs.push_back(t);
  return Status::ok();
}

void print_report(const Series& base, const Series& variant, int64_t records, double target) {
  std::printf(
      "| variant | records/s (median) | min | max | first output after, s (median) | "
      "client CPU, us/record (median) | loop thread CPU, us/record (median) |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const Series* series : {&base, &variant}) {
    if (!series->runs.empty()) print_row(*series, records);
  }
  if (!base.runs.empty() && !variant.runs.empty()) print_ratio(base, variant, records, target);
}

}  // namespace sluice::bench
