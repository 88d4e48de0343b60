// start_metrics_endpoint(): the HTTP side of a process's Prometheus metrics
// (a worker's --metrics-addr, the exporter): GET /metrics serializes
// `registry`, /healthz answers 200 while the process serves, and `route`
// may answer more paths (a worker's /readyz). GETs only, 4 connections at
// once, a stalled client dropped after 10 s.
#pragma once

#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "http_server.h"
#include "sluice/status.h"

namespace sluice::ops {

using MetricsRoute = std::function<std::optional<HttpResponse>(const HttpRequest&)>;

// kTransient naming the address and why when it cannot be bound.
Result<std::unique_ptr<HttpServer>> start_metrics_endpoint(
    const std::string& address, std::shared_ptr<prometheus::Registry> registry,
    MetricsRoute route = {});

}  // namespace sluice::ops
