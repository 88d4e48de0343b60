// The one place librdkafka error codes are classified into Status codes.
#pragma once

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <string_view>
#include <thread>

#include "sluice/status.h"

namespace sluice::engine {

// `what` says which call failed and on what, e.g. "commit on articles.fetch".
Status kafka_status(rd_kafka_resp_err_t err, std::string_view what);
// For rd_kafka_error_t results (transactions, fatal-aware calls).
Status kafka_status(const rd_kafka_error_t* error, std::string_view what);

// The group coordinator is not ready yet: a broker that just started is
// still creating or loading __consumer_offsets (seconds, the first time).
bool coordinator_settling(rd_kafka_resp_err_t err);

// Runs `call(milliseconds_left)`, an rd_kafka_resp_err_t-returning group
// query, again while the coordinator is settling, until `timeout` is spent.
template <typename Call>
rd_kafka_resp_err_t call_when_coordinator_ready(std::chrono::milliseconds timeout, Call call) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    rd_kafka_resp_err_t err = call(static_cast<int>(std::max<int64_t>(left.count(), 1)));
    if (!coordinator_settling(err) || Clock::now() >= deadline) return err;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace sluice::engine
