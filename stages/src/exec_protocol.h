// The exec protocol (stages/README.md), as pure functions: a Task
// becomes one line for the child's stdin; one line from the child's stdout
// becomes a ResultLine or a Status saying why the line is garbage. No I/O,
// no state; any thread.
//
// Engine -> child: {"id","job","key","attempt","payload","headers"}; the
// payload is the JSON value itself when the content type is JSON, else a
// base64 string, and then the line also carries "encoding":"base64" (an
// addition to the original protocol, so that a child can tell base64 from a JSON string).
// Child -> engine: {"id","outputs":[{"payload","key"?,"to"?,"encoding"?}]}
//              or  {"id","error":"msg","retry":bool,"kind"?}  (retry defaults
//              to true; kind "exception" when the agent's code raised, else
//              "error"; "retry_after": SECONDS, a number >= 0, asks that the
//              task not be retried before then). More than max_outputs outputs fail that task (not
//              retried); the child is not to blame, so the line is no garbage.
// State (a stage with `state: true`): the task line carries "state", the
// key's current state as JSON, when it has one; a result with outputs may
// set it ("state": VALUE) or clear it ("state": null); without "state" it
// stays as it was. An error result's "state" is ignored: a failed task
// leaves the state as it was.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/stage.h"
#include "sluice/stages/exec.h"
#include "sluice/status.h"

namespace sluice::stages {

inline constexpr const char* kOctetStreamContentType = "application/octet-stream";

// A longer retry_after (exec result, HTTP Retry-After) is taken as this: a
// dependency's "come back in 10^9 s" must not hold a stage forever.
inline constexpr std::chrono::milliseconds kMaxRetryAfter = std::chrono::hours(24);

// One '\n'-terminated line. kInvalidInput when the content type says JSON
// but the payload is not JSON: the task can never succeed; the store's
// error when the key's state cannot be read.
Result<std::string> encode_task(const Task& task);

// What a task whose line encode_task refused ends as: a retry when the
// state store failed transiently, else a dead letter. `where` names the stage.
Outcome unencodable_task(const Status& why, const std::string& where);

struct ResultLine {
  std::string id;
  bool is_error = false;
  std::vector<Output> outputs;  // when !is_error
  std::string error;            // when is_error
  std::string error_kind = "error";  // when is_error: "error" or "exception"
  bool retry = true;            // when is_error
  std::chrono::milliseconds retry_after{0};  // when is_error and retry; 0: none
  std::optional<Outcome::StateChange> state_change;  // when !is_error: "state" was given
};

// Any error means the child broke the protocol (the line is garbage); the
// message says how, in a few words.
Result<ResultLine> parse_result_line(std::string_view line, size_t max_bytes = kMaxExecLineBytes,
                                     size_t max_outputs = 1000);

// The same shape as the body of an http stage's 2xx response, where "id"
// may be absent (the response belongs to its request; ResultLine::id is
// then empty).
Result<ResultLine> parse_result_body(std::string_view body, size_t max_bytes, size_t max_outputs);

// ok(outputs), retry(kind, msg) (with its retry_after) or fail(kind, msg).
Outcome to_outcome(ResultLine result);

}  // namespace sluice::stages
