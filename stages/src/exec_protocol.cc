#include "exec_protocol.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "sluice/stages/base64.h"
#include "sluice/stages/json_payload.h"

namespace sluice::stages {

using nlohmann::json;

namespace {

Status garbage(std::string what) { return invalid_input(std::move(what)); }

// A string field that may be absent or null (nullopt then).
Result<std::optional<std::string>> optional_string(const json& item, const char* field,
                                                   const std::string& where) {
  auto it = item.find(field);
  if (it == item.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return garbage(where + ": \"" + field + "\" is not a string");
  return std::optional<std::string>(it->get<std::string>());
}

// A JSON payload is carried as the child wrote it (`raw`, when the line's
// text could be followed to it; else serialised again); a base64 one as the
// raw bytes.
Status decode_payload(const json& item, std::optional<std::string_view> raw,
                      const std::string& where, Output* out) {
  const json& payload = item.at("payload");
  auto encoding = item.find("encoding");
  if (encoding == item.end() || encoding->is_null()) {
    out->payload = raw ? std::string(*raw) : dump_json(payload);
    out->content_type = kJsonContentType;
    return Status::ok();
  }
  if (*encoding != "base64" || !payload.is_string()) {
    return garbage(where + ": \"encoding\" must be \"base64\" with a string payload");
  }
  auto bytes = base64_decode(payload.get_ref<const std::string&>());
  if (!bytes) return garbage(where + ": payload is not valid base64");
  out->payload = std::move(*bytes);
  out->content_type = kOctetStreamContentType;
  return Status::ok();
}

Result<Output> parse_output(const json& item, std::optional<std::string_view> text,
                            size_t index) {
  std::string where = "outputs[" + std::to_string(index) + "]";
  if (!item.is_object()) return garbage(where + " is not an object");
  if (!item.contains("payload")) return garbage(where + " has no \"payload\"");
  Output out;
  std::optional<std::string_view> raw;
  if (text) raw = member_value(*text, "payload");
  if (Status st = decode_payload(item, raw, where, &out); !st.is_ok()) return st;
  auto key = optional_string(item, "key", where);
  if (!key.is_ok()) return key.status();
  out.key = std::move(key).value();
  auto to = optional_string(item, "to", where);
  if (!to.is_ok()) return to.status();
  out.to = std::move(to).value().value_or("");
  return out;
}

// `line`'s text is followed to each output's payload, which then keeps the
// child's bytes (big numbers stay exact, keys keep their order).
Status parse_outputs(const json& outputs, std::string_view line, size_t max_outputs,
                     ResultLine* result) {
  if (!outputs.is_array()) return garbage("\"outputs\" is not a list");
  if (outputs.size() > max_outputs) {
    // The task's fault, not the child's: that task fails, the child lives on.
    result->is_error = true;
    result->retry = false;
    result->error = "the result has " + std::to_string(outputs.size()) +
                    " outputs, more than max_outputs (" + std::to_string(max_outputs) + ")";
    return Status::ok();
  }
  std::optional<std::vector<std::string_view>> texts;
  if (auto array = member_value(line, "outputs")) texts = array_elements(*array);
  if (texts && texts->size() != outputs.size()) texts.reset();  // cannot be: parsed alike
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::optional<std::string_view> text;
    if (texts) text = (*texts)[i];
    auto out = parse_output(outputs[i], text, i);
    if (!out.is_ok()) return out.status();
    result->outputs.push_back(std::move(out).value());
  }
  return Status::ok();
}

// Seconds, fractional allowed, rounded up to a whole millisecond (never
// sooner than asked) and capped at kMaxRetryAfter.
Status parse_retry_after(const json& line, ResultLine* result) {
  auto retry_after = line.find("retry_after");
  if (retry_after == line.end() || retry_after->is_null()) return Status::ok();
  if (!retry_after->is_number() || retry_after->get<double>() < 0) {
    return garbage("\"retry_after\" is not a number of seconds >= 0");
  }
  double millis = std::ceil(retry_after->get<double>() * 1000);
  double cap = static_cast<double>(kMaxRetryAfter.count());
  result->retry_after = std::chrono::milliseconds(static_cast<int64_t>(std::min(millis, cap)));
  return Status::ok();
}

Status parse_error(const json& line, ResultLine* result) {
  const json& error = line.at("error");
  if (!error.is_string()) return garbage("\"error\" is not a string");
  result->is_error = true;
  result->error = error.get<std::string>();
  auto retry = line.find("retry");
  if (retry != line.end() && !retry->is_null()) {
    if (!retry->is_boolean()) return garbage("\"retry\" is not a boolean");
    result->retry = retry->get<bool>();
  }
  return parse_retry_after(line, result);
}

// "exception" (the agent's code raised) or "error" (the agent refused the
// task), the default; any other value counts as "error".
void parse_error_kind(const json& line, ResultLine* result) {
  auto kind = line.find("kind");
  bool exception = kind != line.end() && kind->is_string() && *kind == "exception";
  result->error_kind = exception ? "exception" : "error";
}

// "state": null clears the key's state; any other value becomes it, as the
// child wrote it.
void parse_state(const json& doc, std::string_view line, ResultLine* result) {
  auto state = doc.find("state");
  if (state == doc.end()) return;
  Outcome::StateChange change;
  if (!state->is_null()) {
    auto raw = member_value(line, "state");
    change.value = raw ? std::string(*raw) : dump_json(*state);
  }
  result->state_change = std::move(change);
}

}  // namespace

Result<std::string> encode_task(const Task& task) {
  json line = {{"id", task.id},
               {"job", task.job_id},
               {"key", task.key},
               {"attempt", task.attempt},
               {"headers", task.headers}};
  std::string text;
  if (is_json_content_type(task.content_type)) {
    auto payload = parse_json(task.payload);
    if (!payload.is_ok()) {
      return invalid_input("payload of content type " + task.content_type +
                           " is not valid JSON: " + payload.status().message());
    }
    // The payload's own bytes: dumping the parsed value would rewrite the
    // job (big integers become doubles, keys get sorted).
    text = with_raw_member(dump_json(line), "payload", task.payload);
  } else {
    line["payload"] = base64_encode(task.payload);
    line["encoding"] = "base64";
    text = dump_json(line);
  }
  if (task.state != nullptr) {
    auto state = task.state->get(kKeyStateName);
    if (!state.is_ok()) return state.status();
    // Only a result's "state" writes it, and the result parsed as JSON.
    if (const std::optional<std::string>& value = *state) {
      text = with_raw_member(text, "state", *value);
    }
  }
  return text + "\n";
}

Outcome unencodable_task(const Status& why, const std::string& where) {
  if (why.code() == StatusCode::kTransient) {
    return Outcome::retry("state", where + ": cannot read the key's state: " + why.message());
  }
  return Outcome::fail("invalid_input", where + ": " + why.message());
}

namespace {

enum class IdRule { kRequired, kOptional };

Result<ResultLine> parse_result(std::string_view line, size_t max_bytes, size_t max_outputs,
                                IdRule id_rule) {
  if (line.size() > max_bytes) {
    return garbage("line of " + std::to_string(line.size()) + " bytes exceeds the limit of " +
                   std::to_string(max_bytes));
  }
  auto parsed = parse_json(line);
  if (!parsed.is_ok()) return garbage(parsed.status().message());
  const json& doc = parsed.value();
  if (!doc.is_object()) return garbage("line is not a JSON object");
  ResultLine result;
  auto id = doc.find("id");
  if (id != doc.end()) {
    if (!id->is_string()) return garbage("\"id\" is not a string");
    result.id = id->get<std::string>();
  } else if (id_rule == IdRule::kRequired) {
    return garbage("no \"id\"");
  }
  bool has_outputs = doc.contains("outputs"), has_error = doc.contains("error");
  if (has_outputs == has_error) return garbage("needs exactly one of \"outputs\" and \"error\"");
  Status st = has_outputs ? parse_outputs(doc.at("outputs"), line, max_outputs, &result)
                          : parse_error(doc, &result);
  if (!st.is_ok()) return st;
  if (has_error) parse_error_kind(doc, &result);
  if (!result.is_error) parse_state(doc, line, &result);
  return result;
}

}  // namespace

Result<ResultLine> parse_result_line(std::string_view line, size_t max_bytes,
                                     size_t max_outputs) {
  return parse_result(line, max_bytes, max_outputs, IdRule::kRequired);
}

Result<ResultLine> parse_result_body(std::string_view body, size_t max_bytes,
                                     size_t max_outputs) {
  return parse_result(body, max_bytes, max_outputs, IdRule::kOptional);
}

Outcome to_outcome(ResultLine result) {
  if (!result.is_error) {
    Outcome outcome = Outcome::ok(std::move(result.outputs));
    outcome.state_change = std::move(result.state_change);
    return outcome;
  }
  if (result.retry) {
    Outcome outcome = Outcome::retry(std::move(result.error_kind), std::move(result.error));
    outcome.retry_after = result.retry_after;
    return outcome;
  }
  return Outcome::fail(std::move(result.error_kind), std::move(result.error));
}

}  // namespace sluice::stages
