#include "bench_flags.h"

#include <CLI/CLI.hpp>

namespace sluice::bench {
namespace {

void add_workload_options(CLI::App& app, Flags* flags) {
  app.add_option("--brokers", flags->brokers, "bootstrap servers (host:port)")->required();
  app.add_option("--records", flags->records, "records to preload and pass through")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}));
  app.add_option("--partitions", flags->partitions, "partitions of every topic")
      ->check(CLI::Range(1, 1000));
  app.add_option("--runs", flags->runs, "timed runs of each variant")->check(CLI::Range(1, 100));
  app.add_option("--warmup", flags->warmup, "untimed pairs first (broker JIT, group coordinator)")
      ->check(CLI::Range(0, 100));
  app.add_option("--payload-bytes", flags->payload_bytes, "JSON payload size")
      ->check(CLI::Range(size_t{40}, size_t{1000000}));
  app.add_option("--keys", flags->keys, "distinct record keys")->check(CLI::Range(1, 10000000));
  app.add_option("--timeout", flags->timeout_s, "seconds a run may take")
      ->check(CLI::Range(1, 86400));
}

void add_tuning_options(CLI::App& app, Flags* flags) {
  app.add_option("--concurrency", flags->concurrency, "Sluice stage concurrency")
      ->check(CLI::Range(1, 100000));
  app.add_option("--max-buffered-tasks", flags->max_buffered_tasks,
                 "max_buffered_tasks of the Sluice worker's stage")
      ->check(CLI::Range(size_t{1}, size_t{100000000}));
  app.add_option("--consumer-property", flags->consumer_properties,
                 "NAME=VALUE for the consumers of both variants (Sluice: kafka.properties, "
                 "so all its clients); not used in the standard runs");
}

}  // namespace

int parse_flags(int argc, char** argv, const std::string& description, Flags* flags,
                const std::function<void(CLI::App&)>& add_own_options) {
  CLI::App app{description};
  add_workload_options(app, flags);
  add_tuning_options(app, flags);
  add_own_options(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? -1 : 2;
  }
  return 0;
}

TimedRunOptions timed_run_options(const Flags& flags, const std::string& output_topic) {
  TimedRunOptions options;
  options.output_topic = output_topic;
  options.partitions = flags.partitions;
  options.records = flags.records;
  options.timeout = std::chrono::seconds(flags.timeout_s);
  return options;
}

Result<Settings> parse_properties(const std::vector<std::string>& pairs) {
  Settings settings;
  for (const std::string& pair : pairs) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return usage_error("--consumer-property " + pair + ": expected NAME=VALUE");
    }
    settings[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return settings;
}

}  // namespace sluice::bench
