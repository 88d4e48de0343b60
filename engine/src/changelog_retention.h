// Whether a changelog topic's retention keeps what a restore needs: every
// key's latest value, forever. Only compaction does; a `delete` policy
// drops old state changes, and a restore from it would bring back a
// partial state without a word. (Kafka Streams' users meet this when a
// changelog is created by hand or by a cluster default.)
#pragma once

#include <map>
#include <string>

#include "sluice/status.h"

namespace sluice::engine {

struct RetentionVerdict {
  Status refusal;       // not ok: the worker must not run on this changelog
  std::string warning;  // not empty: it may, but the user should know this
};

// `config`: the topic's config entries (describe_topic_config).
RetentionVerdict check_changelog_retention(const std::string& topic,
                                           const std::map<std::string, std::string>& config);

}  // namespace sluice::engine
