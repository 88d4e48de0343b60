// HttpServer: civetweb (Debian's libcivetweb) behind one handler function,
// for `sluice serve`. Bounded: `threads` connections are served at once
// (civetweb queues the rest in the listen backlog), a request body is read
// up to `max_body_bytes` and no further, and a client that stalls mid
// request is dropped after `request_timeout`. The handler runs on
// civetweb's threads, several at once.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sluice/status.h"

struct mg_context;
struct mg_connection;

namespace sluice::ops {

struct HttpRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  // The body was longer than max_body_bytes: `body` holds none of it.
  bool body_too_large = false;
  const std::string* header(const std::string& lower_case_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  struct Limits {
    size_t max_body_bytes = size_t{1} << 20;
    int threads = 16;
    std::chrono::milliseconds request_timeout{30000};
  };

  // `address`: HOST:PORT (listen_address.h). kUsage naming the address when
  // it cannot be bound.
  static Result<std::unique_ptr<HttpServer>> start(const std::string& address, Limits limits,
                                                   Handler handler);
  HttpServer(Limits limits, Handler handler) : limits_(limits), handler_(std::move(handler)) {}
  ~HttpServer();  // stops accepting, waits for the requests being served
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // civetweb's entry point; public for its C callback.
  int serve(::mg_connection* connection);

 private:
  Limits limits_;
  Handler handler_;
  mg_context* context_ = nullptr;
};

}  // namespace sluice::ops
