#include "kafka_log.h"

namespace sluice::engine {
namespace {

// Parts of messages that are normal while a group or a broker starts up;
// librdkafka retries each by itself.
constexpr std::string_view kStartUpChatter[] = {
    "Coordinator load in progress",
    "Coordinator not available",
    "Not coordinator",
    // Sluice sets enable.gapless.guarantee itself; the warning is not the user's.
    "enable.gapless.guarantee is experimental",
    // kafka.properties go to every client a worker makes, consumer and
    // producer alike: a property of one is ignored by the other.
    "is a consumer property and will be ignored by this producer",
    "is a producer property and will be ignored by this consumer",
};

bool is_chatter(std::string_view facility, std::string_view message) {
  // A refused or dropped connection: librdkafka reconnects forever, and
  // whether Kafka is reachable is Sluice's call, reported once as a Status
  // (check_reachable) or by the worker's error callback, not per attempt.
  if (facility == "FAIL") return true;
  for (std::string_view chatter : kStartUpChatter) {
    if (message.find(chatter) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

spdlog::level::level_enum log_level_for(int syslog_level, std::string_view facility,
                                        std::string_view message) {
  if (syslog_level >= 7 || is_chatter(facility, message)) return spdlog::level::debug;
  if (syslog_level <= 3) return spdlog::level::err;
  if (syslog_level == 4) return spdlog::level::warn;
  return spdlog::level::info;
}

}  // namespace sluice::engine
