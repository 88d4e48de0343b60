#include "http_outcome.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>

#include "exec_protocol.h"
#include "sluice/topics/utf8.h"

namespace sluice::stages {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string_view trim(std::string_view text) {
  auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(),
                                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

milliseconds capped_seconds(std::string_view digits) {
  constexpr int64_t kCap = std::chrono::duration_cast<seconds>(kMaxRetryAfter).count();
  int64_t n = 0;
  for (char c : digits) {
    n = n * 10 + (c - '0');
    if (n >= kCap) return kMaxRetryAfter;  // before it can overflow
  }
  return seconds(n);
}

// One line, valid UTF-8, at most kHttpErrorBodyBytes of the body.
std::string body_excerpt(std::string_view body) {
  std::string text = topics::utf8_excerpt(body, kHttpErrorBodyBytes);
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

std::string status_kind(long status) { return "http_" + std::to_string(status); }

Outcome result_outcome(const HttpResponse& response, std::string_view where,
                       size_t max_outputs) {
  auto result = parse_result_body(response.body, kMaxExecLineBytes, max_outputs);
  if (!result.is_ok()) {
    return Outcome::retry("error", std::string(where) + ": HTTP " +
                                       std::to_string(response.status) +
                                       ": the body is not a result: " + result.status().message());
  }
  return to_outcome(std::move(result).value());
}

}  // namespace

milliseconds parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
  value = trim(value);
  if (all_digits(value)) return capped_seconds(value);
  if (value.empty()) return milliseconds(0);
  // curl_getdate reads the three HTTP-date forms (IMF-fixdate, RFC 850, asctime).
  std::string text(value);
  time_t when = curl_getdate(text.c_str(), nullptr);
  if (when == -1) return milliseconds(0);
  auto wait = std::chrono::system_clock::from_time_t(when) - now;
  if (wait <= wait.zero()) return milliseconds(0);
  return std::min(std::chrono::ceil<milliseconds>(wait), kMaxRetryAfter);
}

Outcome response_outcome(const HttpResponse& response, std::string_view where,
                         size_t max_outputs) {
  long status = response.status;
  if (status >= 200 && status < 300) return result_outcome(response, where, max_outputs);
  std::string message = std::string(where) + ": HTTP " + std::to_string(status);
  if (status == 429 || (status >= 500 && status < 600)) {
    if (!response.body.empty()) message += ": " + body_excerpt(response.body);
    Outcome outcome = Outcome::retry(status_kind(status), std::move(message));
    if (status == 429 || status == 503) outcome.retry_after = response.retry_after;
    return outcome;
  }
  message += response.body.empty() ? " (empty body)" : ": " + body_excerpt(response.body);
  return Outcome::fail(status_kind(status), std::move(message));
}

Outcome transfer_failure_outcome(bool timed_out, std::string_view error, std::string_view where) {
  std::string message = std::string(where) + ": " + std::string(error);
  return Outcome::retry(timed_out ? "timeout" : "error", std::move(message));
}

}  // namespace sluice::stages
