#include "dlq_scope.h"

#include <spdlog/spdlog.h>

#include "cli_support.h"
#include "dlq_ledger.h"
#include "sluice/topics/names.h"

namespace sluice::ops {

int64_t now_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Result<DlqScope> open_scope(const DlqSelection& selection, const std::string& spec_path) {
  auto filter = make_filter(selection, now_unix_ms());
  if (!filter.is_ok()) return filter.status();
  auto target = load_target(spec_path);
  if (!target.is_ok()) return target.status();
  auto stage = target->spec.require_stage(selection.stage);
  if (!stage.is_ok()) return stage.status();
  const std::string& p = target->spec.pipeline;
  DlqTopics places{selection.stage, topics::dlq_topic(p, selection.stage),
                   topics::input_topic(target->spec, **stage),
                   topics::dlq_ledger_topic(p, selection.stage)};
  return DlqScope{std::move(target).value(), std::move(places),
                  std::move(filter).value(), selection.max};
}

Status with_apply_hint(const Status& status, const DlqScope& scope) {
  return with_apply_hint(status, scope.target.spec.file);
}

Status for_each_selected(const DlqScope& scope, const std::unordered_set<std::string>& ledger,
                         const std::function<bool(DeadLetter&)>& each) {
  long selected = 0, foreign = 0;
  Status read = read_dead_letters(
      scope.target.kafka, scope.topics.dlq_topic,
      [&](DeadLetter& letter) {
        letter.replayed = ledger.count(ledger_key(letter.partition, letter.offset)) != 0;
        if (!scope.filter.matches(letter)) return true;
        ++selected;
        return each(letter) && (scope.max == 0 || selected < scope.max);
      },
      &foreign);
  if (foreign > 0) {
    spdlog::warn("{}: skipped {} records that are not Sluice envelopes", scope.topics.dlq_topic,
                 foreign);
  }
  return read;
}

}  // namespace sluice::ops
