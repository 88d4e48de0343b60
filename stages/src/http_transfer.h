// One attempt of an http stage's task: a libcurl easy handle set up to send
// the task line to the stage's URL, and the buffers it fills. Made and driven by HttpStage's transfer thread only (not
// thread-safe); the stage adds easy() to its multi handle and, once libcurl
// says the transfer is done, removes it and asks outcome().
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "curl_handles.h"
#include "sluice/stage.h"
#include "sluice/status.h"

namespace sluice::stages {

// What every transfer of a stage shares. `headers` is owned by the stage
// and outlives its transfers.
struct TransferSettings {
  std::string url;
  std::string method;  // "POST" unless the spec says otherwise
  const curl_slist* headers = nullptr;
  std::chrono::milliseconds timeout{30000};
  size_t max_body_bytes = 0;  // a longer response body fails the attempt
  size_t max_outputs = 1000;
  std::string where;  // "stage NAME: POST URL", the start of every message
};

class HttpTransfer {
 public:
  // kFatal when libcurl cannot make or set up a handle (out of memory).
  static Result<std::unique_ptr<HttpTransfer>> make(const TransferSettings& settings,
                                                    std::string body);

  CURL* easy() const { return easy_.get(); }
  // What the attempt came to, given the code libcurl finished it with.
  Outcome outcome(CURLcode result) const;

 private:
  HttpTransfer(const TransferSettings& settings, std::string body);
  Status set_up();
  static size_t on_body(char* data, size_t size, size_t count, void* self);
  std::chrono::milliseconds retry_after() const;

  const TransferSettings& settings_;
  const std::string body_;  // libcurl reads it in place (CURLOPT_POSTFIELDS)
  CurlEasy easy_;
  std::string response_;
  bool response_too_big_ = false;
  char error_[CURL_ERROR_SIZE] = {};
};

}  // namespace sluice::stages
