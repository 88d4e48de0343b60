// `sluice dlq replay`: sends the selected dead letters that were not
// replayed before back to their stage's input, paced by --rate, then
// records them in the replay ledger.
//
// Order, for crash safety: read the ledger to its end; send the replays and
// wait for their acknowledgements; only then write their ledger records and
// wait for those. A crash (or a lost ledger write) between the two leaves a
// replay unrecorded, so the next replay sends it again: at-least-once, with
// the same job id. Recording first could lose a job that was never sent.
#include <algorithm>
#include <optional>
#include <thread>
#include <vector>

#include "cli_support.h"
#include "commands.h"
#include "dlq_ledger.h"
#include "dlq_replay.h"
#include "dlq_scope.h"
#include "sluice/record_sender.h"
#include "token_bucket.h"

namespace sluice::ops {
namespace {

constexpr std::chrono::seconds kAckTimeout{60};

struct Sent {
  DeadLetter letter;  // payload dropped: only its place and job are needed
  size_t number = 0;  // RecordSender's
};

struct ReplayRun {
  const DlqScope& scope;
  bool dry_run = false;
  std::optional<TokenBucket> pace;
  RecordSender* sender = nullptr;  // null for a dry run
  std::vector<Sent> sent;
  long would_send = 0;  // dry run
  long skipped = 0;     // selected, but replayed before
  Status failed;
};

// One selected letter: skipped, shown (dry run), or paced and sent.
bool replay_one(ReplayRun& run, DeadLetter& letter) {
  if (letter.replayed) {
    ++run.skipped;
    return true;
  }
  const std::string what = letter.envelope.job_id() + " (key " + letter_key(letter) + ") from " +
                           letter_place(run.scope.topics.dlq_topic, letter) + " to " +
                           run.scope.topics.input_topic;
  if (run.dry_run) {
    ++run.would_send;
    return write_line("would send " + what).is_ok();
  }
  if (run.pace) std::this_thread::sleep_for(run.pace->take(TokenBucket::Clock::now()));
  auto number = run.sender->send(replay_record(run.scope.topics, letter, now_unix_ms()));
  if (!number.is_ok()) {
    run.failed = number.status();
    return false;
  }
  letter.envelope.clear_payload();
  run.sent.push_back({std::move(letter), *number});
  // A reader that left (| head) does not stop a replay half-way: what is
  // sent is recorded either way.
  (void)write_line("sent " + what);
  return !stop_requested().load();
}

std::string jobs_of(const ReplayRun& run, const std::vector<size_t>& positions) {
  std::string jobs;
  for (size_t i = 0; i < positions.size() && i < 5; ++i) {
    const DeadLetter& letter = run.sent[positions[i]].letter;
    jobs += (i ? ", " : "") + letter.envelope.job_id() + " (" +
            letter_place(run.scope.topics.dlq_topic, letter) + ")";
  }
  if (positions.size() > 5) jobs += " and " + std::to_string(positions.size() - 5) + " more";
  return jobs;
}

// Positions in run.sent of the replays the broker did not acknowledge.
std::vector<size_t> unacknowledged(const ReplayRun& run, const FlushReport& report) {
  std::vector<size_t> positions;
  for (size_t i = 0; i < run.sent.size(); ++i) {
    if (std::binary_search(report.unacknowledged.begin(), report.unacknowledged.end(),
                           run.sent[i].number)) {
      positions.push_back(i);
    }
  }
  return positions;
}

// Writes a ledger record for every replay not `lost` and waits for them;
// returns the positions in run.sent of those the broker did not
// acknowledge (*why: the first error), or the error that stopped a send.
Result<std::vector<size_t>> write_ledger(ReplayRun& run, const std::vector<size_t>& lost,
                                         Status* why) {
  std::vector<size_t> positions, numbers;  // of each ledger record written
  for (size_t i = 0; i < run.sent.size(); ++i) {
    if (std::binary_search(lost.begin(), lost.end(), i)) continue;
    auto number = run.sender->send(
        ledger_record(run.scope.topics.ledger_topic, run.sent[i].letter, now_unix_ms()));
    if (!number.is_ok()) return number.status();
    positions.push_back(i);
    numbers.push_back(*number);
  }
  FlushReport acks = run.sender->flush(kAckTimeout);
  *why = acks.first_error;
  std::vector<size_t> unrecorded;
  for (size_t k = 0; k < positions.size(); ++k) {
    if (std::binary_search(acks.unacknowledged.begin(), acks.unacknowledged.end(), numbers[k])) {
      unrecorded.push_back(positions[k]);
    }
  }
  return unrecorded;
}

// Records every acknowledged replay in the ledger; exit 1 for what was not.
int record_replays(ReplayRun& run, const std::vector<size_t>& lost) {
  const DlqTopics& topics = run.scope.topics;
  Status why;
  auto unrecorded = write_ledger(run, lost, &why);
  if (!unrecorded.is_ok()) return report(unrecorded.status());
  if (!lost.empty()) {
    return report(fatal_error(
        std::to_string(lost.size()) + " of " + std::to_string(run.sent.size()) +
        " replays were not acknowledged by " + run.scope.target.kafka.bootstrap + " (" +
        run.failed.message() + "): " + jobs_of(run, lost) +
        "; not recorded as replayed, a later replay sends them again"));
  }
  if (!unrecorded->empty()) {
    return report(fatal_error(
        std::to_string(run.sent.size()) + " replays were sent, but " +
        std::to_string(unrecorded->size()) + " could not be recorded in " + topics.ledger_topic +
        " (" + why.message() + "): " + jobs_of(run, *unrecorded) +
        "; a later replay sends them again (same job ids)"));
  }
  return kExitOk;
}

std::string summary(const ReplayRun& run) {
  long count = run.dry_run ? run.would_send : static_cast<long>(run.sent.size());
  std::string n = std::to_string(count);
  std::string skipped = std::to_string(run.skipped) + " replayed before, skipped";
  if (run.dry_run) {
    return "dry run: would replay " + n + " dead letters to " + run.scope.topics.input_topic +
           " (" + skipped + "); nothing sent";
  }
  return "replayed " + n + " dead letters to " + run.scope.topics.input_topic + " (" + skipped +
         "); recorded in " + run.scope.topics.ledger_topic;
}

}  // namespace

int dlq_replay_command(const DlqOptions& options) {
  install_stop_signals();
  std::optional<double> rate;
  if (!options.rate.empty()) {
    auto parsed = parse_rate(options.rate);
    if (!parsed.is_ok()) return report(parsed.status());
    rate = *parsed;
  }
  auto scope = open_scope(options.selection, options.spec_path);
  if (!scope.is_ok()) return report(scope.status());
  auto ledger = read_ledger(scope->target.kafka, scope->topics.ledger_topic);
  if (!ledger.is_ok()) return report(with_apply_hint(ledger.status(), *scope));
  std::unique_ptr<RecordSender> sender;
  if (!options.dry_run) {
    auto made = RecordSender::create(scope->target.kafka,
                                     {scope->topics.input_topic, scope->topics.ledger_topic});
    if (!made.is_ok()) return report(with_apply_hint(made.status(), *scope));
    sender = std::move(made).value();
  }
  ReplayRun run{*scope, options.dry_run, std::nullopt, sender.get(), {}, 0, 0, Status::ok()};
  if (rate) run.pace.emplace(*rate, 1.0, TokenBucket::Clock::now());
  Status read = for_each_selected(*scope, *ledger,
                                  [&run](DeadLetter& letter) { return replay_one(run, letter); });
  if (!run.dry_run) {
    FlushReport acks = sender->flush(kAckTimeout);
    if (run.failed.is_ok()) run.failed = acks.first_error;
    if (int code = record_replays(run, unacknowledged(run, acks)); code != kExitOk) return code;
  }
  if (!read.is_ok()) return report(with_apply_hint(read, *scope));
  if (!run.failed.is_ok()) return report(run.failed);
  Status s = write_line(summary(run));
  return s.is_ok() || s.code() == StatusCode::kCancelled ? kExitOk : report(s);
}

}  // namespace sluice::ops
