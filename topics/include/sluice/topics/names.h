// Topic and consumer-group names: the contract of README.md's topic table, in one place.
//
// Pure functions of the pipeline and stage names; nothing here talks to Kafka.
// Names are [a-z0-9-]+ so that the '.' separator below is unambiguous and
// '_' cannot collide with '.' in Kafka's metric names; at most 100 bytes, so
// the longest topic (<p>.<stage>.changelog) stays under Kafka's 249.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/topics/spec.h"

namespace sluice::topics {

inline constexpr size_t kMaxNameLength = 100;

// A valid pipeline or stage name: 1..kMaxNameLength of [a-z0-9-].
bool is_valid_name(std::string_view name);
// "intake" and "done": a stage so named would share <p>.intake or <p>.done.
bool is_reserved_stage_name(std::string_view name);

std::string intake_topic(const std::string& pipeline);
std::string done_topic(const std::string& pipeline);
std::string stage_topic(const std::string& pipeline, const std::string& stage);
std::string retry_topic(const std::string& pipeline, const std::string& stage);
std::string dlq_topic(const std::string& pipeline, const std::string& stage);
// The replay ledger of a stage's dead letters (`sluice dlq replay`): one
// record per replayed letter, keyed "<dlq partition>@<dlq offset>".
std::string dlq_ledger_topic(const std::string& pipeline, const std::string& stage);
std::string changelog_topic(const std::string& pipeline, const std::string& stage);
std::string group_id(const std::string& pipeline, const std::string& stage);
// sluice.<p>.<stage>.restore: never joined; a stateful stage's workers commit
// how far their restores are there (engine/src/restore_progress.h).
std::string restore_group_id(const std::string& pipeline, const std::string& stage);
// sluice.<p>.<stage>.status: never joined; each worker commits a report of
// itself there for the input partitions it owns (engine/src/worker_report.h).
std::string status_group_id(const std::string& pipeline, const std::string& stage);
// exactly_once: the transactional.id of one worker instance of a stage,
// sluice.<p>.<stage>.<instance>. Stable across restarts of the instance, so
// that a restarted worker fences its predecessor (and aborts its open
// transaction at once); unique per live worker, or they fence each other.
std::string transactional_id(const std::string& pipeline, const std::string& stage,
                             const std::string& instance);

// The topic a stage consumes: <p>.intake for the entry stage, else <p>.<stage>.
std::string input_topic(const PipelineSpec& spec, const StageSpec& stage);

// Where a stage's outputs go by default: the input topic of every stage in
// its `next`, in order, or {<p>.done} when `next` is empty. An output with
// `to` goes to stage_topic(p, to) alone.
std::vector<std::string> output_topics(const PipelineSpec& spec,
                                       const StageSpec& stage);

// Mirrored into Kafka record headers so kcat and friends can see them.
inline constexpr const char* kJobIdHeader = "sluice-job-id";
inline constexpr const char* kTaskIdHeader = "sluice-task-id";

}  // namespace sluice::topics
