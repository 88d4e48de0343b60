// IntakeService: the endpoints of `sluice serve` (../shared/DESIGN.md, HTTP
// intake), independent of the HTTP server that carries them:
//   POST /v1/jobs   jobs (intake_jobs.h) onto <p>.intake: 202 {"jobs": [ids]}
//                   once the broker acknowledged every one; 400 malformed
//                   (nothing produced); 401 without the bearer token, when
//                   one is set; 413 over the size limit; 429 + Retry-After
//                   while the entry stage is full (sluice/admission.h); 503
//                   when the broker is unreachable or did not acknowledge
//                   in time (with the ids it did acknowledge, and those
//                   possibly delivered).
//   GET /v1/health  200 {"status": "ok"} while the broker answers, else 503
//   GET /metrics    the serve process's Prometheus metrics
// Errors are JSON: {"error": "...", "code": "..."}. Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "http_server.h"
#include "recent_ids.h"
#include "sluice/admission.h"
#include "sluice/kafka_options.h"
#include "sluice/topics/spec.h"
#include "submitter_pool.h"

namespace prometheus {
class Registry;
}

namespace sluice::ops {

struct IntakeSettings {
  std::optional<std::string> token;  // required as "Authorization: Bearer TOKEN"
  size_t max_jobs_per_request = 10000;
  size_t producers = 4;  // requests producing at once (SubmitterPool)
  std::chrono::milliseconds ack_timeout{15000};
  size_t remembered_keys = 100000;  // RecentIds
  std::chrono::milliseconds admission_refresh{1000};
};

class IntakeService {
 public:
  IntakeService(const topics::PipelineSpec& spec, const KafkaOptions& kafka,
                IntakeSettings settings, std::unique_ptr<AdmissionCheck> admission);
  ~IntakeService();

  HttpResponse handle(const HttpRequest& request);

 private:
  struct Counters;
  HttpResponse post_jobs(const HttpRequest& request);
  HttpResponse health();
  HttpResponse metrics();
  // The entry stage's room, read at most every admission_refresh.
  Result<IntakeRoom> room();
  HttpResponse counted(HttpResponse response);

  std::string pipeline_;
  IntakeSettings settings_;
  SubmitterPool submitters_;
  RecentIds recent_;
  std::mutex admission_mutex_;
  std::unique_ptr<AdmissionCheck> admission_;
  std::optional<Result<IntakeRoom>> last_room_;
  std::chrono::steady_clock::time_point room_read_at_{};
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Counters> counters_;
};

}  // namespace sluice::ops
