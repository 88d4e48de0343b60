// The one place librdkafka error codes are classified into Status codes.
#pragma once

#include <librdkafka/rdkafka.h>

#include <string_view>

#include "sluice/status.h"

namespace sluice::engine {

// `what` says which call failed and on what, e.g. "commit on articles.fetch".
Status kafka_status(rd_kafka_resp_err_t err, std::string_view what);
// For rd_kafka_error_t results (transactions, fatal-aware calls).
Status kafka_status(const rd_kafka_error_t* error, std::string_view what);

}  // namespace sluice::engine
