#include "metrics_endpoint.h"

#include <prometheus/text_serializer.h>

#include <chrono>

#include "listen_address.h"

namespace sluice::ops {

Result<std::unique_ptr<HttpServer>> start_metrics_endpoint(
    const std::string& address, std::shared_ptr<prometheus::Registry> registry,
    MetricsRoute route) {
  HttpServer::Limits limits;
  limits.threads = 4;
  limits.max_body_bytes = 0;  // GETs only
  limits.request_timeout = std::chrono::seconds(10);
  auto serve = [registry = std::move(registry),
                route = std::move(route)](const HttpRequest& request) -> HttpResponse {
    if (request.method != "GET") return {405, "GET only\n", "text/plain", {}};
    if (request.path == "/metrics") {
      return {200, prometheus::TextSerializer().Serialize(registry->Collect()),
              "text/plain; version=0.0.4; charset=utf-8", {}};
    }
    if (request.path == "/healthz") return {200, "ok\n", "text/plain", {}};
    if (route) {
      if (std::optional<HttpResponse> answer = route(request)) return *answer;
    }
    return {404, "not found\n", "text/plain", {}};
  };
  auto server = HttpServer::start(address, limits, std::move(serve));
  if (!server.is_ok()) {
    return transient_error("cannot serve metrics on " + address + ": " +
                           bind_failure(address).value_or("refused"));
  }
  return server;
}

}  // namespace sluice::ops
