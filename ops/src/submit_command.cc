#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli_support.h"
#include "commands.h"
#include "sluice/stages/json_payload.h"
#include "sluice/submitter.h"

namespace sluice::ops {
namespace {

constexpr size_t kFlushEvery = 5000;  // bounds memory for endless stdin
constexpr std::chrono::milliseconds kFlushTimeout{60000};

// The key --key-field names: a string field's text, or a number field as
// written (an integer too big for a double keeps its digits).
Result<std::string> key_field(const std::string& text, const nlohmann::json& json,
                              const std::string& name, const std::string& where) {
  auto field = json.is_object() ? json.find(name) : json.end();
  if (!json.is_object() || field == json.end() || field->is_null() || field->is_structured()) {
    return usage_error(where + ": --key-field " + name +
                       ": the job has no such string or number field");
  }
  if (field->is_string()) return field->get<std::string>();
  std::string written;
  if (auto members = stages::object_members(text)) {
    for (const stages::JsonMember& member : *members) {
      if (member.name == name) written = member.value;  // the last one counts, as in the parse
    }
  }
  return written;
}

// Validates one job and picks its key; the payload is the user's bytes, as
// given. `where` names it in errors ("argument", "stdin:12").
Result<Job> make_job(const std::string& text, const SubmitOptions& options,
                     const std::string& where) {
  auto parsed = stages::parse_json(text);  // depth-limited: no stack overflow
  if (!parsed.is_ok()) return usage_error(where + ": " + parsed.status().message());
  Job job;
  job.payload = text;
  job.key = options.key;
  if (!options.key_field) return job;
  auto key = key_field(text, *parsed, *options.key_field, where);
  if (!key.is_ok()) return key.status();
  job.key = std::move(key).value();
  return job;
}

// Waits for the broker to acknowledge the jobs submitted so far, then
// prints the ids of those it has, in input order: a printed id is a job the
// broker has. When some were not acknowledged, their ids go to stderr as
// "possibly delivered" (the broker may have them, or not), and the flush's
// error is returned: no id is lost, none is claimed that is not sure.
Status flush_and_print(JobSubmitter& submitter, std::vector<std::string>& ids) {
  Status flushed = submitter.flush(kFlushTimeout);
  std::vector<std::string> acknowledged;
  for (std::string& id : ids) {
    if (flushed.is_ok() || !submitter.unacknowledged(id)) {
      acknowledged.push_back(std::move(id));
    } else {
      std::fprintf(stderr, "sluice: possibly delivered (not acknowledged): %s\n", id.c_str());
    }
  }
  ids.clear();
  for (const std::string& id : acknowledged) {
    // The jobs are on the broker already: say so, or their ids are lost.
    if (Status s = write_line(id); !s.is_ok()) {
      return fatal_error(std::to_string(acknowledged.size()) + " jobs were submitted, but " +
                         "their ids could not be printed: " + s.message());
    }
  }
  if (flushed.is_ok()) return flushed;
  return Status(flushed.code(), flushed.message() + " (their ids are above, possibly delivered)");
}

Status submit_all(JobSubmitter& submitter, const SubmitOptions& options) {
  std::vector<std::string> ids;
  auto submit_one = [&](const std::string& text, const std::string& where) -> Status {
    auto job = make_job(text, options, where);
    if (!job.is_ok()) return job.status();
    auto id = submitter.submit(*job);
    if (!id.is_ok()) return id.status();
    ids.push_back(std::move(id).value());
    return ids.size() >= kFlushEvery ? flush_and_print(submitter, ids) : Status::ok();
  };
  Status status;
  if (options.job != "-") {
    status = submit_one(options.job, "argument");
  } else {
    std::string line;
    for (long number = 1; status.is_ok() && std::getline(std::cin, line); ++number) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      status = submit_one(line, "stdin:" + std::to_string(number));
      if (!status.is_ok()) {
        status = Status(status.code(), status.message() + " (not submitted, nor any line after it)");
      }
    }
  }
  // Even after a bad line, what was submitted before it is flushed and
  // reported, so the caller knows exactly which jobs went in.
  Status flushed = flush_and_print(submitter, ids);
  return status.is_ok() ? flushed : status;
}

}  // namespace

int submit_command(const SubmitOptions& options) {
  if (options.key && options.key_field) {
    return report(usage_error("submit: --key and --key-field exclude each other"));
  }
  auto target = load_target(options.spec_path);
  if (!target.is_ok()) return report(target.status());
  if (target->embedded) {
    return report(usage_error(options.spec_path +
                              ": brokers is embedded: there is no broker outside this process to"
                              " submit to; try `sluice demo`"));
  }
  auto submitter = JobSubmitter::create(target->spec, target->kafka);
  if (!submitter.is_ok()) return report(submitter.status());
  return report(submit_all(**submitter, options));
}

}  // namespace sluice::ops
