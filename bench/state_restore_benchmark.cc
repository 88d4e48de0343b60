// state_restore_benchmark: how fast a worker's state comes back from its
// changelog (issue 10: target 200,000 records/s or better; the time to
// restore 1,000,000 keys).
//
// Against a real broker (--brokers), creates the topics of a pipeline with
// one stateful stage (so <p>.counts.changelog is compacted, --partitions
// partitions, as `topics apply` makes it) and preloads --records changelog
// records, one distinct key each (the stored key of task key "user-N", name
// "count"; a --payload-bytes value), spread over the partitions. Each run
// then restores every partition into a fresh StateStore in --state-dir with
// one StateRestorer, as a worker given all the partitions would: timed from
// the restorer's creation until every partition finished. A check after each
// run reads back a sample of keys. Prints one line per run on stderr and a
// Markdown summary on stdout. Exit codes: 0 ok, 1 runtime failure, 2 bad
// usage.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "bench_flags.h"
#include "bench_kafka.h"
#include "bench_report.h"
#include "bench_setup.h"
#include "sluice/admin.h"
#include "sluice/topics/names.h"
#include "state_keys.h"
#include "state_restorer.h"
#include "state_store.h"

namespace sluice::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string stored_key(int64_t n) {
  return engine::encode_state_key(
      {engine::StateKey::Scope::kTaskKey, "user-" + std::to_string(n), "count"});
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

Result<std::string> create_changelog(const Flags& flags) {
  std::string pipeline = random_pipeline_name();
  std::string text = "pipeline: " + pipeline + "\nkafka: {brokers: \"" + flags.brokers +
                     "\"}\ndefaults: {partitions: " + std::to_string(flags.partitions) +
                     "}\nstages:\n  - {name: counts, kind: builtin, builtin: passthrough, "
                     "state: true}\n";
  auto spec = topics::parse_spec(text, "state_restore_benchmark.yaml");
  if (!spec.is_ok()) return spec.status();
  KafkaOptions kafka;
  kafka.bootstrap = flags.brokers;
  auto applied = apply_topics(*spec, kafka);
  if (!applied.is_ok()) return applied.status();
  return topics::changelog_topic(pipeline, "counts");
}

Status preload(const Flags& flags, const std::string& topic) {
  int64_t failed = 0;
  auto producer = plain_producer(flags.brokers, [&failed](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, &failed);
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* o) {
      if (m->err) ++*static_cast<int64_t*>(o);
    });
  });
  if (!producer.is_ok()) return producer.status();
  std::string value(flags.payload_bytes, 'v');
  for (int64_t n = 0; n < flags.records; ++n) {
    std::string key = stored_key(n);
    for (;;) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer->get(), RD_KAFKA_V_TOPIC(topic.c_str()),
          RD_KAFKA_V_PARTITION(static_cast<int32_t>(n % flags.partitions)),
          RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) return kafka_error(err, "preload " + topic);
      rd_kafka_poll(producer->get(), 10);
    }
    rd_kafka_poll(producer->get(), 0);
  }
  rd_kafka_resp_err_t err = rd_kafka_flush(producer->get(), 120000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return kafka_error(err, "flush the preload");
  if (failed > 0) return fatal_error(std::to_string(failed) + " preloaded records failed");
  return Status::ok();
}

struct RestoreRun {
  double seconds = 0;
  double cpu_seconds = 0;
  uint64_t records = 0;
};

// One restore of every partition into a fresh store in `dir`.
Result<RestoreRun> restore_once(const Flags& flags, const std::string& topic,
                                const fs::path& dir) {
  fs::remove_all(dir);
  auto store = engine::StateStore::open(dir);
  if (!store.is_ok()) return store.status();
  for (int p = 0; p < flags.partitions; ++p) {
    if (auto from = (*store)->open_partition(p); !from.is_ok()) return from.status();
  }
  KafkaOptions kafka;
  kafka.bootstrap = flags.brokers;
  double cpu_before = cpu_seconds();
  auto started = Clock::now();
  auto deadline = started + std::chrono::seconds(flags.timeout_s);
  auto restorer = engine::StateRestorer::create(kafka, topic, false, "sluice-restore-bench-" + topic);
  if (!restorer.is_ok()) return restorer.status();
  for (int p = 0; p < flags.partitions; ++p) {
    if (Status s = (*restorer)->begin(p, 0); !s.is_ok()) return s;
  }
  int finished = 0;
  while (finished < flags.partitions) {
    if (Clock::now() > deadline) return fatal_error("restore did not finish in time");
    auto done = (*restorer)->poll(**store, 100);
    if (!done.is_ok()) return done.status();
    finished += static_cast<int>(done->size());
  }
  RestoreRun run;
  run.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  run.cpu_seconds = cpu_seconds() - cpu_before;
  run.records = (*restorer)->records_restored();
  // A sample read back: every 1000th key and the last.
  std::vector<int64_t> sample;
  for (int64_t n = 0; n < flags.records; n += 1000) sample.push_back(n);
  sample.push_back(flags.records - 1);
  for (int64_t n : sample) {
    auto value = (*store)->get(static_cast<int32_t>(n % flags.partitions), stored_key(n));
    if (!value.is_ok()) return value.status();
    if (!value->has_value() || (*value)->size() != flags.payload_bytes) {
      return fatal_error("key " + std::to_string(n) + " was not restored");
    }
  }
  store->reset();
  fs::remove_all(dir);
  return run;
}

int run(const Flags& flags, const fs::path& state_dir) {
  auto topic = create_changelog(flags);
  if (!topic.is_ok()) {
    std::fprintf(stderr, "state_restore_benchmark: %s\n", topic.status().message().c_str());
    return 1;
  }
  if (Status s = preload(flags, *topic); !s.is_ok()) {
    std::fprintf(stderr, "state_restore_benchmark: %s\n", s.message().c_str());
    return 1;
  }
  std::vector<double> rates, seconds, cpu_per_record;
  for (int i = 0; i < flags.warmup + flags.runs; ++i) {
    auto restored = restore_once(flags, *topic, state_dir);
    if (!restored.is_ok()) {
      std::fprintf(stderr, "state_restore_benchmark: %s: %s\n", run_label(i + 1, flags.warmup).c_str(),
                   restored.status().message().c_str());
      return 1;
    }
    double rate = restored->records / restored->seconds;
    std::fprintf(stderr, "%s: %llu records restored in %.2f s: %.0f records/s, %.2f us CPU/record\n",
                 run_label(i + 1, flags.warmup).c_str(),
                 static_cast<unsigned long long>(restored->records), restored->seconds, rate,
                 1e6 * restored->cpu_seconds / restored->records);
    if (i < flags.warmup) continue;
    if (static_cast<int64_t>(restored->records) != flags.records) {
      std::fprintf(stderr, "state_restore_benchmark: restored %llu records, not %lld\n",
                   static_cast<unsigned long long>(restored->records),
                   static_cast<long long>(flags.records));
      return 1;
    }
    rates.push_back(rate);
    seconds.push_back(restored->seconds);
    cpu_per_record.push_back(1e6 * restored->cpu_seconds / restored->records);
  }
  Summary rate = summarize(rates), time = summarize(seconds), cpu = summarize(cpu_per_record);
  std::printf("| keys | partitions | value bytes | records/s median | min | max | "
              "seconds median | client CPU us/record |\n|---|---|---|---|---|---|---|---|\n");
  std::printf("| %lld | %d | %zu | %.0f | %.0f | %.0f | %.2f | %.2f |\n",
              static_cast<long long>(flags.records), flags.partitions, flags.payload_bytes,
              rate.median, rate.min, rate.max, time.median, cpu.median);
  std::printf("target: 200000 records/s or better: %s\n", rate.median >= 200000 ? "met" : "not met");
  return 0;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  sluice::bench::Flags flags;
  flags.records = 1000000;
  flags.payload_bytes = 100;
  std::string state_dir = (std::filesystem::temp_directory_path() / "sluice-restore-bench").string();
  int code = sluice::bench::parse_flags(
      argc, argv, "A stage's state restored from its changelog, timed", &flags,
      [&state_dir](CLI::App& app) {
        app.add_option("--state-dir", state_dir, "where the store is made (wiped per run)");
      });
  if (code != 0) return code < 0 ? 0 : code;
  return sluice::bench::run(flags, state_dir);
}
