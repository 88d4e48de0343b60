#include "http_server.h"

#include <civetweb.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "listen_address.h"

namespace sluice::ops {
namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "";
  }
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

int serve_trampoline(::mg_connection* connection, void* server) {
  return static_cast<HttpServer*>(server)->serve(connection);
}

// Reads the body, up to `max` bytes: false when it is longer (the rest is
// left unread; the connection is closed after the answer).
bool read_body(::mg_connection* connection, long long length, size_t max,
               std::string& body) {
  if (length > static_cast<long long>(max)) return false;
  char buffer[16384];
  for (;;) {
    int n = mg_read(connection, buffer, sizeof(buffer));
    if (n <= 0) return true;
    if (body.size() + static_cast<size_t>(n) > max) return false;
    body.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

const std::string* HttpRequest::header(const std::string& lower_case_name) const {
  auto it = headers.find(lower_case_name);
  return it == headers.end() ? nullptr : &it->second;
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(const std::string& address, Limits limits,
                                                      Handler handler) {
  static std::once_flag library;
  std::call_once(library, [] { mg_init_library(0); });
  auto server = std::make_unique<HttpServer>(limits, std::move(handler));
  std::string threads = std::to_string(std::max(1, limits.threads));
  std::string timeout = std::to_string(limits.request_timeout.count());
  const char* options[] = {"listening_ports", address.c_str(),
                           "num_threads", threads.c_str(),
                           "request_timeout_ms", timeout.c_str(),
                           "enable_keep_alive", "yes",
                           nullptr};
  struct mg_callbacks callbacks = {};
  server->context_ = mg_start(&callbacks, nullptr, options);
  if (server->context_ == nullptr) {
    return usage_error("cannot listen on " + address + ": " +
                       bind_failure(address).value_or("civetweb refused it"));
  }
  mg_set_request_handler(server->context_, "/", serve_trampoline, server.get());
  return server;
}

HttpServer::~HttpServer() {
  if (context_ != nullptr) mg_stop(context_);
}

int HttpServer::serve(::mg_connection* connection) {
  const struct mg_request_info* info = mg_get_request_info(connection);
  HttpRequest request;
  request.method = info->request_method ? info->request_method : "";
  request.path = info->local_uri ? info->local_uri : "";
  for (int i = 0; i < info->num_headers; ++i) {
    request.headers[lower(info->http_headers[i].name)] = info->http_headers[i].value;
  }
  if (!read_body(connection, info->content_length, limits_.max_body_bytes, request.body)) {
    request.body.clear();
    request.body_too_large = true;
  }
  HttpResponse response;
  try {
    response = handler_(request);
  } catch (const std::exception& e) {
    response = {500, std::string(R"({"error":"internal error","code":"internal"})"),
                "application/json", {}};
  }
  std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                     reason_phrase(response.status) + "\r\nContent-Type: " +
                     response.content_type + "\r\nContent-Length: " +
                     std::to_string(response.body.size()) + "\r\n";
  for (const auto& [name, value] : response.headers) head += name + ": " + value + "\r\n";
  // A body left unread would be taken for the next request.
  if (request.body_too_large) head += "Connection: close\r\n";
  head += "\r\n";
  mg_write(connection, head.data(), head.size());
  mg_write(connection, response.body.data(), response.body.size());
  return response.status;
}

}  // namespace sluice::ops
