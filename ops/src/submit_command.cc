#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli_support.h"
#include "commands.h"
#include "deadline_arg.h"
#include "sluice/admission.h"
#include "sluice/stages/json_payload.h"
#include "sluice/submitter.h"
#include "sluice/topics/spec.h"

namespace sluice::ops {
namespace {

constexpr size_t kFlushEvery = 5000;  // bounds memory for endless stdin
constexpr std::chrono::milliseconds kFlushTimeout{60000};
constexpr std::chrono::milliseconds kRoomPoll{1000};  // the workers report every second

using Clock = std::chrono::steady_clock;

// Admission: before the first job and before each batch of kFlushEvery, the
// entry stage must have room (sluice/admission.h). While it has none, waits
// until `until` (saying why on stderr, once), or fails kBusy: the caller
// flushes what it submitted, prints those ids, and exits 3.
class Admission {
 public:
  Admission(std::unique_ptr<AdmissionCheck> check, Clock::time_point until)
      : check_(std::move(check)), until_(until) {}

  Status wait_for_room() {
    bool said = false;
    for (;;) {
      auto room = check_->read();
      if (!room.is_ok()) return room.status();
      if (!room->busy()) return Status::ok();
      if (Clock::now() >= until_ || stop_requested().load()) {
        return Status(StatusCode::kBusy, "busy: " + room->why());
      }
      if (!said) {
        std::fprintf(stderr, "sluice: waiting for room: %s\n", room->why().c_str());
        said = true;
      }
      auto pause = std::min<Clock::duration>(kRoomPoll, until_ - Clock::now());
      for (auto end = Clock::now() + pause; Clock::now() < end && !stop_requested().load();) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }

 private:
  std::unique_ptr<AdmissionCheck> check_;
  Clock::time_point until_;
};

// "stdin:12: what"; just "what" for the job given as an argument (where "").
std::string located(const std::string& where, const std::string& what) {
  return where.empty() ? what : where + ": " + what;
}

// The key --key-field names: a string field's text, or a number field as
// written (an integer too big for a double keeps its digits).
Result<std::string> key_field(const std::string& text, const nlohmann::json& json,
                              const std::string& name, const std::string& where) {
  auto field = json.is_object() ? json.find(name) : json.end();
  if (!json.is_object() || field == json.end() || field->is_null() || field->is_structured()) {
    return usage_error(located(where, "--key-field " + name +
                                          ": the job has no string or number field '" + name +
                                          "'"));
  }
  if (field->is_string()) return field->get<std::string>();
  // The last member by that name counts, as in the parse.
  return std::string(stages::member_value(text, name).value_or(""));
}

// Validates one job and picks its key; the payload is the user's bytes, as
// given, the rest as in `base` (--key, --deadline). `where` names it in
// errors ("stdin:12"; "" for the argument).
Result<Job> make_job(const std::string& text, const Job& base, const SubmitOptions& options,
                     const std::string& where) {
  auto parsed = stages::parse_json(text);  // depth-limited: no stack overflow
  if (!parsed.is_ok()) return usage_error(located(where, parsed.status().message()));
  Job job = base;
  job.payload = text;
  if (!options.key_field) return job;
  auto key = key_field(text, *parsed, *options.key_field, where);
  if (!key.is_ok()) return key.status();
  job.key = std::move(key).value();
  return job;
}

// Jobs submitted and not yet reported, and what became of the ones that were.
struct Batch {
  std::vector<std::string> ids;  // submitted, in input order, not yet flushed
  size_t submitted = 0;          // acknowledged by the broker, in all
  size_t unprinted = 0;          // of those, ids not printed
  Status stdout_error;           // the first failed write: no id is printed after it
};

// Waits for the broker to acknowledge the jobs submitted so far, then
// prints the ids of those it has, in input order: a printed id is a job the
// broker has. When some were not acknowledged, their ids go to stderr as
// "possibly delivered" (the broker may have them, or not), and the flush's
// error is returned: no id is lost, none is claimed that is not sure. Once
// stdout fails, ids are only counted.
Status flush_and_print(JobSubmitter& submitter, Batch& batch) {
  Status flushed = submitter.flush(kFlushTimeout);
  for (const std::string& id : batch.ids) {
    if (!flushed.is_ok() && submitter.unacknowledged(id)) {
      std::fprintf(stderr, "sluice: possibly delivered (not acknowledged): %s\n", id.c_str());
      continue;
    }
    ++batch.submitted;
    if (batch.stdout_error.is_ok()) batch.stdout_error = write_line(id);
    if (!batch.stdout_error.is_ok()) ++batch.unprinted;
  }
  batch.ids.clear();
  if (flushed.is_ok()) return flushed;
  return Status(flushed.code(), flushed.message() + " (their ids are above, possibly delivered)");
}

// The one error line of a run that did not submit everything cleanly:
// what went wrong, in order of importance, and what of the input is left.
Status outcome(const Status& status, const Batch& batch, bool interrupted,
               std::optional<long> unread_line) {
  std::vector<std::string> parts;
  if (interrupted) parts.push_back("interrupted: " + std::to_string(batch.submitted) +
                                   " jobs submitted");
  if (!status.is_ok()) parts.push_back(status.message());
  if (!batch.stdout_error.is_ok()) {
    parts.push_back(batch.stdout_error.message() + ": the ids of " +
                    std::to_string(batch.unprinted) + " of the " +
                    std::to_string(batch.submitted) + " jobs submitted were not printed");
  }
  if (parts.empty()) return Status::ok();
  if (unread_line) parts.push_back("stdin from line " + std::to_string(*unread_line) +
                                   " on was not read");
  std::string message = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) message += "; " + parts[i];
  StatusCode code = status.code() == StatusCode::kUsage || status.code() == StatusCode::kBusy
                        ? status.code()
                        : StatusCode::kFatal;
  return Status(code, message);
}

// Reads and submits until the input ends, a line is bad, the broker fails
// a batch, stdout fails, or SIGINT/SIGTERM: then stops reading, flushes and
// prints what was submitted, and says what is left.
Status submit_all(JobSubmitter& submitter, Admission& admission, const Job& base,
                  const SubmitOptions& options) {
  Batch batch;
  // Errors name the line: neither it nor any after it is submitted.
  auto submit_one = [&](const std::string& text, const std::string& where) -> Status {
    auto job = make_job(text, base, options, where);
    auto id = job.is_ok() ? submitter.submit(*job) : Result<std::string>(job.status());
    if (!id.is_ok()) {
      std::string message = id.status().message();
      if (message.rfind(where, 0) != 0) message = located(where, message);
      if (options.job == "-") message += " (not submitted, nor any line after it)";
      return Status(id.status().code(), message);
    }
    batch.ids.push_back(std::move(id).value());
    return Status::ok();
  };
  Status status;
  std::optional<long> unread_line;  // the first line not read, when reading stopped early
  if (options.job != "-") {
    status = admission.wait_for_room();
    if (status.is_ok()) status = submit_one(options.job, "");
  } else if (status = admission.wait_for_room(); !status.is_ok()) {
    unread_line = 1;
  } else {
    std::string line;
    long number = 1;
    // SIGINT interrupts a read that waits (no SA_RESTART): getline returns.
    while (batch.stdout_error.is_ok() && !stop_requested().load() &&
           std::getline(std::cin, line)) {
      std::string where = "stdin:" + std::to_string(number++);
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      if (status = submit_one(line, where); !status.is_ok()) break;
      if (batch.ids.size() < kFlushEvery) continue;
      if (status = flush_and_print(submitter, batch); !status.is_ok()) {
        unread_line = number;
        break;
      }
      if (status = admission.wait_for_room(); !status.is_ok()) {
        unread_line = number;
        break;
      }
    }
    if (status.is_ok() && (!std::cin.eof() || stop_requested().load())) unread_line = number;
  }
  // Even after a bad line, what was submitted before it is flushed and
  // reported, so the caller knows exactly which jobs went in.
  Status flushed = flush_and_print(submitter, batch);
  return outcome(status.is_ok() ? flushed : status, batch, stop_requested().load(), unread_line);
}

}  // namespace

int submit_command(const SubmitOptions& options) {
  install_stop_signals();  // Ctrl-C and a closed stdout end the run cleanly
  if (options.key && options.key_field) {
    return report(usage_error("submit: --key and --key-field exclude each other"));
  }
  Job base;
  base.key = options.key;
  if (options.deadline) {
    // One deadline for the whole submission, however long stdin runs.
    auto now = std::chrono::system_clock::now().time_since_epoch();
    auto deadline = parse_deadline(*options.deadline,
                                   std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
    if (!deadline.is_ok()) return report(deadline.status());
    base.deadline_unix_ms = *deadline;
  }
  auto target = load_external_target(options.spec_path, "submit to; try `sluice demo`");
  if (!target.is_ok()) return report(target.status());
  Clock::duration wait{0};
  if (!options.no_wait) {
    auto parsed = topics::parse_duration(options.wait);
    if (!parsed.is_ok()) return report(usage_error("submit: --wait: " + parsed.status().message()));
    wait = *parsed;
  }
  auto submitter = JobSubmitter::create(target->spec, target->kafka);
  if (!submitter.is_ok()) return report(submitter.status());
  auto check = AdmissionCheck::create(target->spec, target->kafka);
  if (!check.is_ok()) return report(check.status());
  Admission admission(std::move(check).value(), Clock::now() + wait);
  return report(submit_all(**submitter, admission, base, options));
}

}  // namespace sluice::ops
