#include "intake_jobs.h"

#include <nlohmann/json.hpp>

#include "deadline_arg.h"
#include "sluice/stages/json_payload.h"

namespace sluice::ops {
namespace {

Status invalid(size_t n, const std::string& what) {
  return Status(StatusCode::kInvalidInput, "job " + std::to_string(n) + ": " + what);
}

Result<std::string> optional_string(const nlohmann::json& job, const char* name, size_t n,
                                    bool* present) {
  auto it = job.find(name);
  *present = it != job.end() && !it->is_null();
  if (!*present) return std::string();
  if (!it->is_string()) return invalid(n, std::string("\"") + name + "\" must be a string");
  return it->get<std::string>();
}

Result<IntakeJob> one_job(const nlohmann::json& job, size_t n, int64_t now_unix_ms) {
  if (!job.is_object()) return invalid(n, "a job is a JSON object with a \"payload\"");
  auto payload = job.find("payload");
  if (payload == job.end()) return invalid(n, "no \"payload\"");
  IntakeJob out;
  out.job.payload = payload->dump();
  bool has = false;
  auto key = optional_string(job, "key", n, &has);
  if (!key.is_ok()) return key.status();
  if (has) out.job.key = *key;
  auto field = optional_string(job, "key_field", n, &has);
  if (!field.is_ok()) return field.status();
  if (has) {
    if (out.job.key) return invalid(n, "\"key\" and \"key_field\" exclude each other");
    auto value = payload->is_object() ? payload->find(*field) : payload->end();
    if (!payload->is_object() || value == payload->end() ||
        !(value->is_string() || value->is_number())) {
      return invalid(n, "key_field " + *field + ": the payload has no string or number field '" +
                            *field + "'");
    }
    out.job.key = value->is_string() ? value->get<std::string>() : value->dump();
  }
  auto deadline = optional_string(job, "deadline", n, &has);
  if (!deadline.is_ok()) return deadline.status();
  if (has) {
    auto at = parse_deadline(*deadline, now_unix_ms);
    if (!at.is_ok()) return invalid(n, at.status().message());
    out.job.deadline_unix_ms = *at;
  }
  auto idempotency = optional_string(job, "idempotency_key", n, &has);
  if (!idempotency.is_ok()) return idempotency.status();
  if (has) out.idempotency_key = *idempotency;
  return out;
}

}  // namespace

Result<std::vector<IntakeJob>> parse_intake_jobs(std::string_view body, int64_t now_unix_ms,
                                                 size_t max_jobs) {
  std::vector<nlohmann::json> documents;
  if (auto whole = stages::parse_json(body); whole.is_ok()) {
    if (whole->is_array()) {
      for (auto& job : *whole) documents.push_back(std::move(job));
    } else {
      documents.push_back(std::move(whole).value());
    }
  } else {
    // JSON lines: blank lines are skipped; a line that does not parse is named.
    size_t line = 0;
    while (!body.empty()) {
      size_t end = body.find('\n');
      std::string_view text = body.substr(0, end);
      body.remove_prefix(end == std::string_view::npos ? body.size() : end + 1);
      ++line;
      if (text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      auto parsed = stages::parse_json(text);
      if (!parsed.is_ok()) {
        return Status(StatusCode::kInvalidInput,
                      "line " + std::to_string(line) + ": " + parsed.status().message());
      }
      documents.push_back(std::move(parsed).value());
      if (documents.size() > max_jobs) break;
    }
  }
  if (documents.empty()) return Status(StatusCode::kInvalidInput, "no job in the request");
  if (documents.size() > max_jobs) {
    return Status(StatusCode::kInvalidInput,
                  "more than " + std::to_string(max_jobs) + " jobs in one request");
  }
  std::vector<IntakeJob> jobs;
  jobs.reserve(documents.size());
  for (size_t i = 0; i < documents.size(); ++i) {
    auto job = one_job(documents[i], i + 1, now_unix_ms);
    if (!job.is_ok()) return job.status();
    jobs.push_back(std::move(job).value());
  }
  return jobs;
}

}  // namespace sluice::ops
