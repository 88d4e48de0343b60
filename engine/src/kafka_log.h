// How a librdkafka log line is logged: librdkafka's syslog severity mapped to
// spdlog's, except for lines known to be chatter. A pure function, so the
// table is testable; kafka_client.cc's log callback applies it.
#pragma once

#include <spdlog/common.h>

#include <string_view>

namespace sluice::engine {

// Syslog 0-3 -> err, 4 -> warn, 5-6 -> info, 7 -> debug; debug for known
// start-up chatter (a group coordinator still loading, Sluice's own
// experimental settings) and for connection failures, which Sluice reports
// itself (see kafka_log.cc).
spdlog::level::level_enum log_level_for(int syslog_level, std::string_view facility,
                                        std::string_view message);

}  // namespace sluice::engine
