// The address a server of ours (/metrics) listens on.
#pragma once

#include <optional>
#include <string>

#include "sluice/status.h"

namespace sluice::ops {

// HOST:PORT as given; a bare PORT means 127.0.0.1:PORT (loopback: /metrics is
// not authenticated, so exposing it is a choice to make by naming the host).
Result<std::string> listen_address(const std::string& given);
// Why binding HOST:PORT fails right now ("Address already in use"), if it does.
std::optional<std::string> bind_failure(const std::string& address);

}  // namespace sluice::ops
