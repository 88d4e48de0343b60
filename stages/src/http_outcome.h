// What an http stage's attempt came to (DESIGN.md, Stage kinds: http), as
// pure functions of what libcurl reported: no I/O, no state, any thread.
//
//   2xx            the body is an exec result ("id" optional): its outcome
//                  (ok, or the error's retry / fail with its retry_after);
//                  a body that is not that shape: retry, kind "error"
//   429, 503       retry, kind http_429 / http_503, retry_after from Retry-After
//   other 5xx      retry, kind http_<status>
//   other statuses fail (dead letter), kind http_<status>: 4xx, and 1xx/3xx
//                  (redirects are not followed), with the start of the body
//   no response    timeout: retry, kind "timeout"; anything else (refused,
//                  DNS, TLS, a body over the bound): retry, kind "error"
//
// Every message starts with `where` ("stage NAME: POST URL") and is one line.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "sluice/stage.h"

namespace sluice::stages {

// How much of a non-2xx body an error message quotes.
inline constexpr size_t kHttpErrorBodyBytes = 1024;

// Retry-After (RFC 9110 10.2.3): delta-seconds ("120") or an HTTP-date,
// relative to `now`. Absent, unreadable or in the past: 0. Capped at
// kMaxRetryAfter (exec_protocol.h).
std::chrono::milliseconds parse_retry_after(std::string_view value,
                                            std::chrono::system_clock::time_point now);

struct HttpResponse {
  long status = 0;
  std::string_view body;
  std::chrono::milliseconds retry_after{0};  // parsed Retry-After
};

Outcome response_outcome(const HttpResponse& response, std::string_view where,
                         size_t max_outputs);

// A transfer that ended without a complete response. `error` is libcurl's
// text for it (its error buffer, else curl_easy_strerror).
Outcome transfer_failure_outcome(bool timed_out, std::string_view error, std::string_view where);

}  // namespace sluice::stages
