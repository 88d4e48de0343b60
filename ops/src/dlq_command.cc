// `sluice dlq list`: the selected dead letters of a stage as a table or
// JSON lines, marked replayed from the replay ledger (`dlq replay`:
// dlq_replay_command.cc).
#include <spdlog/spdlog.h>

#include "cli_support.h"
#include "commands.h"
#include "dlq_ledger.h"
#include "dlq_print.h"
#include "dlq_scope.h"

namespace sluice::ops {

int dlq_list_command(const DlqOptions& options) {
  install_stop_signals();
  auto scope = open_scope(options.selection, options.spec_path);
  if (!scope.is_ok()) return report(scope.status());
  auto ledger = read_ledger(scope->target.kafka, scope->topics.ledger_topic);
  if (!ledger.is_ok() && ledger.status().code() != StatusCode::kNotFound) {
    return report(ledger.status());
  }
  if (!ledger.is_ok()) {
    // An older deployment: list still works, it just cannot tell replays.
    spdlog::warn("{}; every letter is shown as not replayed",
                 with_apply_hint(ledger.status(), *scope).message());
  }
  std::unordered_set<std::string> replayed = ledger.is_ok() ? *ledger : decltype(replayed)();
  if (!options.json) {
    if (Status s = write_line(letter_table_header()); !s.is_ok()) return report(s);
  }
  long shown = 0;
  Status written;
  Status read = for_each_selected(*scope, replayed, [&](DeadLetter& letter) {
    written = write_line(options.json ? letter_json_line(letter) : letter_table_row(letter));
    shown += written.is_ok() ? 1 : 0;
    return written.is_ok() && !stop_requested().load();
  });
  if (written.code() == StatusCode::kCancelled) return kExitOk;  // the reader left (| head)
  if (!written.is_ok()) return report(written);
  if (!read.is_ok()) return report(with_apply_hint(read, *scope));
  if (!options.json) {
    std::string summary = std::to_string(shown) + " dead letters of " + scope->topics.dlq_topic;
    if (Status s = write_line(summary); !s.is_ok() && s.code() != StatusCode::kCancelled) {
      return report(s);
    }
  }
  return kExitOk;
}

}  // namespace sluice::ops
