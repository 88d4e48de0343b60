// `sluice verify`: what came out of a pipeline against what went in. Reads
// the ids file, waits out transactions about to commit, then reads <p>.done
// and every stage's DLQ read_committed to their ends, leaving out letters
// the replay ledger says were sent back (verify_tally.h compares;
// verify_report.h prints).
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_set>

#include "cli_support.h"
#include "commands.h"
#include "dlq_ledger.h"
#include "sluice/admin.h"
#include "sluice/topic_snapshot.h"
#include "sluice/topics/names.h"
#include "verify_report.h"
#include "verify_transactions.h"

namespace sluice::ops {
namespace {

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

Status read_ids_file(const std::string& path, JobTally& tally) {
  auto failed = [&](int error) {
    return usage_error("--jobs " + path + ": cannot read: " + std::strerror(error));
  };
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "r"));
  if (!file) return failed(errno);
  std::string text;
  char buffer[65536];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) text.append(buffer, n);
  if (std::ferror(file.get())) return failed(errno);  // a directory: EISDIR
  return parse_job_ids(text, path, [&](std::string_view id) { tally.add_submitted(id); });
}

// Every record of `topic` up to its last stable offset: the job id of each
// envelope to `add`, the rest counted unreadable. A dead letter whose place
// is in `replayed` (the stage's replay ledger) is counted apart.
Status tally_topic(const KafkaOptions& kafka, const std::string& topic, JobTally& tally,
                   void (JobTally::*add)(std::string_view),
                   const std::unordered_set<std::string>& replayed = {}) {
  auto snapshot = TopicSnapshot::open(kafka, topic, Isolation::kReadCommitted);
  if (!snapshot.is_ok()) return snapshot.status();
  v1::Envelope envelope;
  while (true) {
    auto record = (*snapshot)->next();
    if (!record.is_ok()) return record.status();
    if (!record->has_value()) return Status::ok();
    if (!decode_envelope((*record)->value, &envelope)) {
      tally.add_unreadable();
    } else if (replayed.count(ledger_key((*record)->partition, (*record)->offset)) != 0) {
      tally.add_replayed_letter();
    } else {
      (tally.*add)(envelope.job_id());
    }
  }
}

// The dead letters of `stage` and what the replay ledger says of them. A
// missing ledger (a deployment older than `dlq replay`) replayed nothing.
Status tally_dead_letters(const KafkaOptions& kafka, const std::string& pipeline,
                          const std::string& stage, JobTally& tally) {
  auto ledger = read_ledger(kafka, topics::dlq_ledger_topic(pipeline, stage));
  if (!ledger.is_ok() && ledger.status().code() != StatusCode::kNotFound) {
    return ledger.status();
  }
  return tally_topic(kafka, topics::dlq_topic(pipeline, stage), tally,
                     &JobTally::add_dead_letter,
                     ledger.is_ok() ? *ledger : std::unordered_set<std::string>());
}

// The topics `topics apply` creates that workers write, where a transaction
// may be left open: stage inputs, retry topics, DLQs, changelogs, done. Not
// the replay ledgers: `dlq replay` writes them outside any transaction, and
// a deployment older than it has none.
std::vector<std::string> transactional_topics(const topics::PipelineSpec& spec) {
  std::unordered_set<std::string> ledgers;
  for (const topics::StageSpec& stage : spec.stages) {
    ledgers.insert(topics::dlq_ledger_topic(spec.pipeline, stage.name));
  }
  std::vector<std::string> names;
  for (const TopicPlan& plan : plan_topics(spec)) {
    if (ledgers.count(plan.name) == 0) names.push_back(plan.name);
  }
  return names;
}

Result<VerifyReport> verify(const Target& target, JobTally& tally,
                            std::chrono::milliseconds wait) {
  const topics::PipelineSpec& spec = target.spec;
  VerifyReport report{spec.pipeline, false, {}, {}};
  for (const topics::StageSpec& stage : spec.stages) {
    report.exactly_once |= stage.guarantee == topics::Guarantee::kExactlyOnce;
  }
  auto ends = EndOffsetReader::create(target.kafka);
  if (!ends.is_ok()) return ends.status();
  // First: records of a transaction that commits meanwhile are then read below.
  auto open = open_transactions(**ends, transactional_topics(spec), wait);
  if (!open.is_ok()) return open.status();
  report.open_transactions = std::move(open).value();
  Status s = tally_topic(target.kafka, topics::done_topic(spec.pipeline), tally,
                         &JobTally::add_done);
  for (size_t i = 0; s.is_ok() && i < spec.stages.size(); ++i) {
    s = tally_dead_letters(target.kafka, spec.pipeline, spec.stages[i].name, tally);
  }
  if (!s.is_ok()) return s;
  report.counts = tally.counts();
  return report;
}

}  // namespace

int verify_command(const VerifyOptions& options) {
  install_stop_signals();
  JobTally tally;
  // The ids file before the spec, the spec before the broker.
  if (Status s = read_ids_file(options.jobs_path, tally); !s.is_ok()) return report(s);
  auto target =
      load_external_target(options.spec_path, "verify; `sluice demo` verifies its own run");
  if (!target.is_ok()) return report(target.status());
  auto result = verify(*target, tally, options.timeout);
  if (!result.is_ok()) return report(with_apply_hint(result.status(), target->spec.file));
  std::vector<std::string> lines =
      options.json ? std::vector<std::string>{verify_json(*result)} : verify_table(*result);
  for (const std::string& line : lines) {
    Status written = write_line(line);
    if (written.code() == StatusCode::kCancelled) break;  // the reader left (| head)
    if (!written.is_ok()) return report(written);
  }
  return verify_failures(*result).empty() ? kExitOk : kExitFailure;
}

}  // namespace sluice::ops
