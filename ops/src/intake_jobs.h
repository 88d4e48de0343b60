// The body of `POST /v1/jobs` (`sluice serve`): one job, a JSON array of
// jobs, or JSON lines, each job an object
//
//   {"payload": ANY, "key"?: STRING, "key_field"?: STRING,
//    "deadline"?: "30s" | RFC 3339, "idempotency_key"?: STRING}
//
// `payload` is what the entry stage gets (as JSON text); `key` keys the job
// (per-key order), or `key_field` names the payload field to key it by;
// `deadline` as `sluice submit --deadline`; a job whose `idempotency_key`
// was accepted before is not produced again (intake_service.h). Unknown
// fields are ignored. Any error rejects the whole body, naming the job.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/status.h"
#include "sluice/submitter.h"

namespace sluice::ops {

struct IntakeJob {
  Job job;
  std::optional<std::string> idempotency_key;
};

// kInvalidInput "job N: what" (N from 1) for a malformed body, or one with
// more than `max_jobs` jobs, or none.
Result<std::vector<IntakeJob>> parse_intake_jobs(std::string_view body, int64_t now_unix_ms,
                                                 size_t max_jobs);

}  // namespace sluice::ops
