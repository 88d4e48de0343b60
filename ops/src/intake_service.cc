#include "intake_service.h"

#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>

#include "bearer_token.h"
#include "intake_jobs.h"

namespace sluice::ops {
namespace {

using Clock = std::chrono::steady_clock;

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

HttpResponse json_response(int status, const nlohmann::json& body) {
  return {status, body.dump(), "application/json", {}};
}

HttpResponse error_response(int status, const std::string& code, const std::string& message) {
  return json_response(status, {{"error", message}, {"code", code}});
}

}  // namespace

struct IntakeService::Counters {
  prometheus::Family<prometheus::Counter>* requests;
  prometheus::Counter* jobs;
};

IntakeService::IntakeService(const topics::PipelineSpec& spec, const KafkaOptions& kafka,
                             IntakeSettings settings, std::unique_ptr<AdmissionCheck> admission)
    : pipeline_(spec.pipeline),
      settings_(std::move(settings)),
      submitters_(spec, kafka, settings_.producers),
      recent_(settings_.remembered_keys),
      admission_(std::move(admission)),
      registry_(std::make_shared<prometheus::Registry>()),
      counters_(std::make_unique<Counters>()) {
  counters_->requests = &prometheus::BuildCounter()
                             .Name("sluice_intake_requests_total")
                             .Help("HTTP requests to sluice serve, by status code")
                             .Register(*registry_);
  counters_->jobs = &prometheus::BuildCounter()
                         .Name("sluice_intake_jobs_total")
                         .Help("Jobs sluice serve put on the intake topic (acknowledged)")
                         .Register(*registry_)
                         .Add({{"pipeline", pipeline_}});
}

IntakeService::~IntakeService() = default;

HttpResponse IntakeService::counted(HttpResponse response) {
  counters_->requests->Add({{"pipeline", pipeline_}, {"code", std::to_string(response.status)}})
      .Increment();
  return response;
}

HttpResponse IntakeService::handle(const HttpRequest& request) {
  if (request.path == "/v1/jobs") {
    if (request.method != "POST") {
      return counted(error_response(405, "method_not_allowed", "use POST /v1/jobs"));
    }
    return counted(post_jobs(request));
  }
  if (request.path == "/v1/health" && request.method == "GET") return counted(health());
  if (request.path == "/metrics" && request.method == "GET") return metrics();
  return counted(error_response(404, "not_found", "no endpoint " + request.method + " " +
                                                      request.path));
}

Result<IntakeRoom> IntakeService::room() {
  std::lock_guard lock(admission_mutex_);
  Clock::time_point now = Clock::now();
  if (!last_room_ || now - room_read_at_ >= settings_.admission_refresh) {
    last_room_ = admission_->read();
    room_read_at_ = Clock::now();
  }
  return *last_room_;
}

HttpResponse IntakeService::post_jobs(const HttpRequest& request) {
  if (settings_.token &&
      !bearer_matches(request.header("authorization"), *settings_.token)) {
    HttpResponse refused = error_response(401, "unauthorized", "a valid bearer token is required");
    refused.headers.push_back({"WWW-Authenticate", "Bearer"});
    return refused;
  }
  if (request.body_too_large) {
    return error_response(413, "too_large", "the request body is over the size limit");
  }
  auto jobs = parse_intake_jobs(request.body, now_unix_ms(), settings_.max_jobs_per_request);
  if (!jobs.is_ok()) return error_response(400, "malformed", jobs.status().message());
  auto room = this->room();
  if (!room.is_ok()) return error_response(503, "unavailable", room.status().message());
  if (room->busy()) {
    HttpResponse busy = error_response(429, "busy", "busy: " + room->why());
    busy.headers.push_back({"Retry-After", "1"});
    return busy;
  }

  std::vector<std::string> ids(jobs->size());
  std::vector<size_t> fresh;  // indexes of the jobs to produce
  for (size_t i = 0; i < jobs->size(); ++i) {
    const auto& key = (*jobs)[i].idempotency_key;
    if (auto known = key ? recent_.find(*key) : std::nullopt) {
      ids[i] = *known;
    } else {
      fresh.push_back(i);
    }
  }
  if (!fresh.empty()) {
    auto submitter = submitters_.acquire();
    if (!submitter.is_ok()) {
      return error_response(503, "unavailable", submitter.status().message());
    }
    Status status;
    std::vector<size_t> queued;
    for (size_t i : fresh) {
      auto id = (*submitter)->submit((*jobs)[i].job);
      if (!id.is_ok()) {
        status = id.status();
        break;
      }
      ids[i] = std::move(id).value();
      queued.push_back(i);
    }
    Status flushed = (*submitter)->flush(settings_.ack_timeout);
    if (status.is_ok()) status = flushed;
    // What the broker acknowledged counts (and is remembered) even when the
    // rest failed: the answer names both, so a client retries only the rest.
    nlohmann::json acknowledged = nlohmann::json::array();
    nlohmann::json maybe = nlohmann::json::array();
    for (size_t i : queued) {
      if ((*submitter)->unacknowledged(ids[i])) {
        maybe.push_back(ids[i]);
        continue;
      }
      acknowledged.push_back(ids[i]);
      counters_->jobs->Increment();
      if (const auto& key = (*jobs)[i].idempotency_key) recent_.remember(*key, ids[i]);
    }
    submitters_.release(std::move(submitter).value(), status.is_ok());
    if (!status.is_ok()) {
      return json_response(503, {{"error", status.message()},
                                 {"code", "unavailable"},
                                 {"jobs", acknowledged},
                                 {"possibly_delivered", maybe}});
    }
  }
  return json_response(202, {{"jobs", ids}});
}

HttpResponse IntakeService::health() {
  auto room = this->room();
  if (!room.is_ok()) {
    return json_response(503, {{"status", "unavailable"}, {"error", room.status().message()}});
  }
  return json_response(200, {{"status", "ok"},
                             {"pipeline", pipeline_},
                             {"busy", room->busy()},
                             {"entry_stage", {{"stage", room->stage},
                                              {"depth", room->depth},
                                              {"high_watermark", room->high_watermark}}}});
}

HttpResponse IntakeService::metrics() {
  prometheus::TextSerializer serializer;
  return {200, serializer.Serialize(registry_->Collect()),
          "text/plain; version=0.0.4; charset=utf-8", {}};
}

}  // namespace sluice::ops
