// sample_envelope(): an input envelope as an upstream stage writes it, with
// every field set and one failure in its history already.
#pragma once

#include "envelope.pb.h"

namespace sluice::testing {

inline v1::Envelope sample_envelope() {
  v1::Envelope e;
  e.set_job_id("job-1");
  e.set_task_id("task-in");
  e.set_parent_task_id("task-parent");
  e.set_correlation_id("corr-1");
  e.set_causation_id("task-parent");
  e.set_pipeline("articles");
  e.set_destination_stage("summarize");
  e.set_source_stage("fetch");
  e.set_attempt(3);
  e.set_not_before_unix_ms(1700000001000);
  e.set_submitted_at_unix_ms(1700000000000);
  e.set_deadline_unix_ms(1700000060000);
  e.set_content_type("application/json");
  e.set_payload(R"({"url":"https://example.com"})");
  e.set_key("user-42");
  (*e.mutable_headers())["trace"] = "abc";
  (*e.mutable_headers())["empty"] = "";
  v1::ErrorRecord* error = e.add_errors();
  error->set_stage("summarize");
  error->set_kind("timeout");
  e.mutable_origin()->set_topic("articles.summarize");
  return e;
}

}  // namespace sluice::testing
