#include <cstdio>

#include "cli_support.h"
#include "commands.h"
#include "record_json.h"
#include "sluice/topic_reader.h"
#include "sluice/topics/names.h"

namespace sluice::ops {
namespace {

Result<std::string> chosen_topic(const topics::PipelineSpec& spec, const TailOptions& options) {
  int chosen = (options.done ? 1 : 0) + (options.stage.empty() ? 0 : 1) +
               (options.dlq_stage.empty() ? 0 : 1);
  if (chosen > 1) return usage_error("tail: give one of --stage, --done, --dlq");
  if (chosen == 0 || options.done) return topics::done_topic(spec.pipeline);
  const std::string& name = options.stage.empty() ? options.dlq_stage : options.stage;
  auto stage = spec.require_stage(name);
  if (!stage.is_ok()) return stage.status();
  return options.stage.empty() ? topics::dlq_topic(spec.pipeline, name)
                               : topics::input_topic(spec, **stage);
}

}  // namespace

int tail_command(const TailOptions& options) {
  install_stop_signals();
  auto target = load_target(options.spec_path);
  if (!target.is_ok()) return report(target.status());
  auto topic = chosen_topic(target->spec, options);
  if (!topic.is_ok()) return report(topic.status());
  auto reader = TopicReader::create(target->kafka, *topic, options.from_beginning);
  if (!reader.is_ok()) return report(reader.status());
  long printed = 0;
  auto idle_since = std::chrono::steady_clock::now();
  while (!stop_requested().load() && (options.max_records == 0 || printed < options.max_records)) {
    auto record = (*reader)->next(std::chrono::milliseconds(200));
    if (!record.is_ok()) return report(record.status());
    if (!record->has_value()) {
      // With nothing to write, a write cannot tell us that the reader left
      // (`| head -1` after its line): ask the pipe.
      if (stdout_reader_gone()) break;
      bool idle = options.idle_timeout.count() > 0 &&
                  std::chrono::steady_clock::now() - idle_since >= options.idle_timeout;
      if (idle) break;
      continue;
    }
    idle_since = std::chrono::steady_clock::now();
    Status written = write_line(record_json_line(**record));
    if (written.code() == StatusCode::kCancelled) break;  // the reader is done: so are we
    if (!written.is_ok()) return report(written);
    ++printed;
  }
  return kExitOk;
}

}  // namespace sluice::ops
