// `sluice demo`: a three-stage pipeline on the embedded broker, in one
// process, with progress per stage and a verified summary. No setup needed.
#include <algorithm>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <set>
#include <thread>

#include "cli_support.h"
#include "commands.h"
#include "demo_progress.h"
#include "sluice/embedded_broker.h"
#include "sluice/stages/registry.h"
#include "sluice/submitter.h"
#include "sluice/topic_reader.h"
#include "sluice/topics/names.h"
#include "sluice/worker.h"

namespace sluice::ops {
namespace {

constexpr const char* kDemoSpec = R"(pipeline: demo
kafka: {brokers: embedded}
defaults: {partitions: 3, concurrency: 8, timeout: 10s}
stages:
  - {name: normalize, kind: builtin, builtin: uppercase, next: [count]}
  - {name: count, kind: builtin, builtin: word-count, next: [publish]}
  - {name: publish, kind: builtin, builtin: tag}
)";

const char* const kTexts[] = {"the quick brown fox", "jumps over", "the lazy dog",
                              "queues make slow steps safe", "nothing is lost"};

Status submit_jobs(const topics::PipelineSpec& spec, const KafkaOptions& kafka, int jobs) {
  auto submitter = JobSubmitter::create(spec, kafka);
  if (!submitter.is_ok()) return submitter.status();
  for (int i = 0; i < jobs; ++i) {
    nlohmann::json payload = {{"n", i}, {"text", kTexts[i % 5]}};
    Job job{payload.dump(), "application/json", "user-" + std::to_string(i % 40)};
    auto id = (*submitter)->submit(job);
    if (!id.is_ok()) return id.status();
  }
  return (*submitter)->flush(std::chrono::seconds(30));
}

struct Verdict {
  long records = 0, unique = 0, duplicates = 0, wrong = 0;
};

// Reads <demo>.done back and checks every job arrived once, transformed by
// all three stages.
Result<Verdict> verify(const topics::PipelineSpec& spec, const KafkaOptions& kafka, int jobs) {
  auto reader = TopicReader::create(kafka, topics::done_topic(spec.pipeline), true);
  if (!reader.is_ok()) return reader.status();
  Verdict verdict;
  std::set<std::string> seen;
  while (verdict.records < jobs) {
    auto record = (*reader)->next(std::chrono::seconds(3));
    if (!record.is_ok()) return record.status();
    if (!record->has_value()) break;
    ++verdict.records;
    if (!seen.insert((*record)->job_id).second) ++verdict.duplicates;
    auto payload = nlohmann::json::parse((*record)->payload, nullptr, false);
    bool transformed = payload.is_object() && payload.contains("words") &&
                       payload.value("stages", nlohmann::json::array()).size() == 1;
    if (!transformed) ++verdict.wrong;
  }
  verdict.unique = static_cast<long>(seen.size());
  return verdict;
}

}  // namespace

int demo_command(const DemoOptions& options) {
  install_stop_signals();
  auto spec = topics::parse_spec(kDemoSpec, "<demo>");
  if (!spec.is_ok()) return report(spec.status());
  std::printf("Sluice demo: pipeline 'demo' = normalize -> count -> publish, %d jobs.\n"
              "It runs on the embedded broker: in this process, in memory. It keeps nothing\n"
              "after exit; point a spec at a real Kafka to keep your data.\n\n",
              options.jobs);
  auto broker = EmbeddedBroker::start();
  if (!broker.is_ok()) return report(broker.status());
  if (Status s = (*broker)->create_topics(*spec); !s.is_ok()) return report(s);
  KafkaOptions kafka;
  kafka.bootstrap = (*broker)->bootstrap();

  DemoProgress progress(*spec);
  std::vector<std::unique_ptr<Worker>> workers;
  for (const topics::StageSpec& stage : spec->stages) {
    auto made = stages::make_stage(stage);
    if (!made.is_ok()) return report(made.status());
    WorkerOptions worker_options{*spec, stage.name, kafka};
    worker_options.observer = progress.observer(stage.name);
    worker_options.abandon = &abandon_requested();
    auto worker = Worker::create(std::move(worker_options), std::move(made).value());
    if (!worker.is_ok()) return report(worker.status());
    workers.push_back(std::move(worker).value());
  }
  std::atomic<bool> stop{false};
  std::vector<Status> results(workers.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < workers.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] = workers[i]->run(stop);
      if (!results[i].is_ok()) request_stop();  // ends the progress display at once
    });
  }
  auto started = std::chrono::steady_clock::now();
  Status submitted = submit_jobs(*spec, kafka, options.jobs);
  if (submitted.is_ok()) progress.show_until_done(options.jobs, stop_requested());
  auto ended = std::chrono::steady_clock::now();
  double seconds = std::chrono::duration<double>(ended - started).count();
  // Start-up (connecting, the first rebalance) apart from the engine's pace.
  auto first = progress.first_done();
  double first_seconds = first ? std::chrono::duration<double>(*first - started).count() : seconds;
  double running_seconds = std::max(1e-3, seconds - first_seconds);
  auto verdict = verify(*spec, kafka, options.jobs);
  stop = true;
  for (std::thread& thread : threads) thread.join();
  workers.clear();
  for (const Status& result : results) {
    if (!result.is_ok()) return report(result);
  }
  if (!submitted.is_ok()) return report(submitted);
  if (!verdict.is_ok()) return report(verdict.status());
  long missing = options.jobs - verdict->unique;
  std::printf("\nSummary: %d jobs submitted, %ld done (%ld unique), %ld missing, %ld duplicates,"
              " %ld not transformed as expected.\n"
              "%.1f s in all, %.0f jobs/s end to end; the first job was done after %.2f s,"
              " then %.0f jobs/s.\n",
              options.jobs, verdict->records, verdict->unique, missing, verdict->duplicates,
              verdict->wrong, seconds, options.jobs / seconds, first_seconds,
              (options.jobs - 1) / running_seconds);
  std::printf("The embedded broker is gone now, and with it every record of this run.\n");
  return missing == 0 && verdict->wrong == 0 ? kExitOk : kExitFailure;
}

}  // namespace sluice::ops
