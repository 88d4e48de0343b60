// `sluice serve -f SPEC --addr HOST:PORT`: the HTTP intake (intake_service.h)
// until SIGTERM or SIGINT; then it stops accepting and finishes the requests
// it is serving.
#include <chrono>
#include <cstdio>
#include <thread>

#include "bearer_token.h"
#include "cli_support.h"
#include "commands.h"
#include "http_server.h"
#include "intake_service.h"
#include "listen_address.h"
#include "sluice/admission.h"

namespace sluice::ops {

int serve_command(const ServeOptions& options) {
  install_stop_signals();
  auto address = listen_address(options.addr);
  if (!address.is_ok()) return report(address.status());
  auto token = load_bearer_token(options.token_file, "SLUICE_SERVE_TOKEN");
  if (!token.is_ok()) return report(token.status());
  auto target = load_external_target(options.spec_path, "serve");
  if (!target.is_ok()) return report(target.status());
  auto admission = AdmissionCheck::create(target->spec, target->kafka);
  if (!admission.is_ok()) return report(admission.status());
  IntakeSettings settings;
  settings.token = *token;
  settings.max_jobs_per_request = options.max_jobs_per_request;
  settings.producers = options.producers;
  IntakeService service(target->spec, target->kafka, settings, std::move(admission).value());
  HttpServer::Limits limits;
  limits.max_body_bytes = options.max_request_bytes;
  limits.threads = options.max_connections;
  auto server = HttpServer::start(*address, limits, [&service](const HttpRequest& request) {
    return service.handle(request);
  });
  if (!server.is_ok()) return report(server.status());
  std::fprintf(stderr, "sluice serve: pipeline %s, listening on %s%s\n",
               target->spec.pipeline.c_str(), address->c_str(),
               settings.token ? " (bearer token required)" : "");
  while (!stop_requested().load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server->reset();  // finishes the requests in flight
  return kExitOk;
}

}  // namespace sluice::ops
