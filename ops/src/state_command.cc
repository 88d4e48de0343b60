// `sluice state get` and `sluice state dump`: a stateful stage's state read
// from its changelog, <p>.<stage>.changelog, up to the end it had when the
// command started; no worker is needed, and none is asked.
//
// Read committed whatever kafka.properties say: under exactly_once the
// changelog holds the writes of aborted transactions too, which no worker
// ever restores. Every partition is read, also by `get`: which one holds a
// key depends on the partitioner that wrote the stage's input (a property
// users may set), and a TopicSnapshot reads them all anyway. It hands out
// the partitions' records interleaved, so `dump` keeps every partition's
// live entries until the end of the read (a partition at a time would read
// the topic once per partition); `dump --partition N` keeps only N's.
#include <spdlog/spdlog.h>

#include <vector>

#include "cli_support.h"
#include "commands.h"
#include "sluice/end_offsets.h"
#include "sluice/topic_snapshot.h"
#include "sluice/topics/names.h"
#include "state_fold.h"
#include "state_json.h"

namespace sluice::ops {
namespace {

struct StateScope {
  Target target;
  std::string changelog;
};

Result<StateScope> open_state_scope(const StateOptions& options) {
  auto target = load_external_target(options.spec_path, "hold a stage's state");
  if (!target.is_ok()) return target.status();
  auto stage = target->spec.require_stage(options.stage);
  if (!stage.is_ok()) return stage.status();
  if (!(*stage)->state) {
    return usage_error("stage " + options.stage + " keeps no state: " + target->spec.file +
                       " does not set `state: true` for it");
  }
  std::string changelog = topics::changelog_topic(target->spec.pipeline, options.stage);
  return StateScope{std::move(target).value(), std::move(changelog)};
}

Status fold_changelog(const StateScope& scope, StateFold& fold) {
  auto snapshot =
      TopicSnapshot::open(scope.target.kafka, scope.changelog, Isolation::kReadCommitted);
  if (!snapshot.is_ok()) return with_apply_hint(snapshot.status(), scope.target.spec.file);
  while (!stop_requested().load()) {
    auto record = (*snapshot)->next();
    if (!record.is_ok()) return record.status();
    if (!record->has_value()) return Status::ok();
    fold.add(**record);
  }
  return cancelled("interrupted while reading " + scope.changelog);
}

// kUsage when the changelog has no partition `partition`.
Status check_partition(const StateScope& scope, int32_t partition) {
  auto ends = EndOffsetReader::create(scope.target.kafka);
  if (!ends.is_ok()) return ends.status();
  auto partitions = (*ends)->list({scope.changelog});
  if (!partitions.is_ok()) return with_apply_hint(partitions.status(), scope.target.spec.file);
  if (partition < static_cast<int32_t>(partitions->size())) return Status::ok();
  return usage_error("--partition " + std::to_string(partition) + ": " + scope.changelog +
                     " has " + std::to_string(partitions->size()) + " partitions (0 to " +
                     std::to_string(partitions->size() - 1) + ")");
}

// The key's entry; when more than one partition has one (the input's
// partition count changed), the one written last, with a warning.
std::optional<StateEntry> latest_of(const StateFold& fold, const StateScope& scope) {
  std::vector<StateEntry> found;
  fold.for_each([&](const StateEntry& entry) {
    found.push_back(entry);
    return true;
  });
  if (found.empty()) return std::nullopt;
  size_t latest = 0;
  for (size_t i = 1; i < found.size(); ++i) {
    if (found[i].timestamp_unix_ms >= found[latest].timestamp_unix_ms) latest = i;
  }
  if (found.size() > 1) {
    spdlog::warn("{} holds this key's state in {} partitions (did the partition count "
                 "change?); showing partition {}'s, the last written",
                 scope.changelog, found.size(), found[latest].partition);
  }
  return found[latest];
}

std::string absent_message(const StateOptions& options) {
  std::string what = options.name.empty() ? "state" : "state named \"" + options.name + "\"";
  return "stage " + options.stage + " has no " + what + " for key " + options.key;
}

// Prints `line`; a reader that left (| head) is not a failure.
int print(const std::string& line) {
  Status written = write_line(line);
  return written.code() == StatusCode::kCancelled ? kExitOk : report(written);
}

}  // namespace

int state_get_command(const StateOptions& options) {
  install_stop_signals();
  auto scope = open_state_scope(options);
  if (!scope.is_ok()) return report(scope.status());
  StateFold fold({std::nullopt, changelog_key(options.key, options.name)});
  if (Status s = fold_changelog(*scope, fold); !s.is_ok()) return report(s);
  std::optional<StateEntry> entry = latest_of(fold, *scope);
  if (!entry) return report(not_found(absent_message(options)));
  return print(options.json ? state_get_json(*entry) : entry->value);
}

int state_dump_command(const StateOptions& options) {
  install_stop_signals();
  auto scope = open_state_scope(options);
  if (!scope.is_ok()) return report(scope.status());
  if (options.partition) {
    if (Status s = check_partition(*scope, *options.partition); !s.is_ok()) return report(s);
  }
  StateFold fold({options.partition, std::nullopt});
  if (Status s = fold_changelog(*scope, fold); !s.is_ok()) return report(s);
  Status written;
  fold.for_each([&](const StateEntry& entry) {
    written = write_line(state_dump_line(entry));
    return written.is_ok();
  });
  if (written.code() == StatusCode::kCancelled) return kExitOk;  // the reader left (| head)
  if (!written.is_ok()) return report(written);
  if (fold.undecodable() > 0) {
    spdlog::warn("{}: skipped {} records whose keys are not state keys", scope->changelog,
                 fold.undecodable());
  }
  return kExitOk;
}

}  // namespace sluice::ops
