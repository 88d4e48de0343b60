// What `sluice dlq list` and `sluice dlq replay` share: the stage and its
// topics, the compiled selection, and the walk over the selected letters.
// A dead letter's place, "<dlq partition>@<dlq offset>", is its identity.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_set>

#include "cli_support.h"
#include "commands.h"
#include "dead_letter.h"
#include "dlq_filter.h"

namespace sluice::ops {

int64_t now_unix_ms();

struct DlqScope {
  Target target;
  DlqTopics topics;
  DlqFilter filter;
  long max = 0;  // 0: no limit
};

// Checks the flags before the spec, the spec before the broker: bad usage
// is exit 2 whatever else is wrong.
Result<DlqScope> open_scope(const DlqSelection& selection, const std::string& spec_path);

// A kNotFound topic error, with "; create it with `sluice topics apply -f FILE`".
Status with_apply_hint(const Status& status, const DlqScope& scope);

// Calls `each` for every selected letter, marked replayed when its place is
// in `ledger`, until --max letters were selected or `each` returns false.
Status for_each_selected(const DlqScope& scope, const std::unordered_set<std::string>& ledger,
                         const std::function<bool(DeadLetter&)>& each);

}  // namespace sluice::ops
