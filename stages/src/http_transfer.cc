#include "http_transfer.h"

#include <chrono>
#include <initializer_list>

#include "http_outcome.h"

namespace sluice::stages {

HttpTransfer::HttpTransfer(const TransferSettings& settings, std::string body)
    : settings_(settings), body_(std::move(body)), easy_(curl_easy_init()) {}

Result<std::unique_ptr<HttpTransfer>> HttpTransfer::make(const TransferSettings& settings,
                                                         std::string body) {
  std::unique_ptr<HttpTransfer> transfer(new HttpTransfer(settings, std::move(body)));
  if (Status st = transfer->set_up(); !st.is_ok()) return st;
  return transfer;
}

// TLS verification, proxies (http_proxy, https_proxy, no_proxy) and
// keep-alive are libcurl's defaults, deliberately left alone; connection
// reuse happens in the stage's multi handle, whose cache outlives transfers.
Status HttpTransfer::set_up() {
  CURL* e = easy_.get();
  if (e == nullptr) return fatal_error(settings_.where + ": curl_easy_init failed");
  std::initializer_list<CURLcode> codes = {
      curl_easy_setopt(e, CURLOPT_URL, settings_.url.c_str()),
      curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https"),
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, settings_.headers),
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, body_.data()),
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size())),
      curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout.count())),
      // No SIGALRM for DNS timeouts: the worker has other threads.
      curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L),
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpTransfer::on_body),
      curl_easy_setopt(e, CURLOPT_WRITEDATA, this),
      curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error_),
      curl_easy_setopt(e, CURLOPT_PRIVATE, this),
  };
  for (CURLcode code : codes) {
    if (code != CURLE_OK) {
      return fatal_error(settings_.where + ": cannot set up the request: " +
                         curl_easy_strerror(code));
    }
  }
  if (settings_.method != "POST" &&
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, settings_.method.c_str()) != CURLE_OK) {
    return fatal_error(settings_.where + ": cannot set method " + settings_.method);
  }
  return Status::ok();
}

size_t HttpTransfer::on_body(char* data, size_t size, size_t count, void* self) {
  auto* transfer = static_cast<HttpTransfer*>(self);
  size_t bytes = size * count;
  if (transfer->response_.size() + bytes > transfer->settings_.max_body_bytes) {
    transfer->response_too_big_ = true;
    return 0;  // libcurl ends the transfer with CURLE_WRITE_ERROR
  }
  transfer->response_.append(data, bytes);
  return bytes;
}

std::chrono::milliseconds HttpTransfer::retry_after() const {
  curl_header* header = nullptr;
  if (curl_easy_header(easy_.get(), "Retry-After", 0, CURLH_HEADER, -1, &header) != CURLHE_OK) {
    return std::chrono::milliseconds(0);
  }
  return parse_retry_after(header->value, std::chrono::system_clock::now());
}

Outcome HttpTransfer::outcome(CURLcode result) const {
  if (response_too_big_) {
    return Outcome::retry("error", settings_.where + ": the response body is over " +
                                       std::to_string(settings_.max_body_bytes) + " bytes");
  }
  if (result != CURLE_OK) {
    std::string error = error_[0] != '\0' ? error_ : curl_easy_strerror(result);
    return transfer_failure_outcome(result == CURLE_OPERATION_TIMEDOUT, error, settings_.where);
  }
  long status = 0;
  curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &status);
  return response_outcome({status, response_, retry_after()}, settings_.where,
                          settings_.max_outputs);
}

}  // namespace sluice::stages
