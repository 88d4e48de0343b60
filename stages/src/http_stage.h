// HttpStage: the http stage kind (DESIGN.md, Stage kinds). Each task's exec
// task line (exec_protocol.h) is sent as a JSON body to spec.http.url with
// spec.http.method and spec.http.headers; the response becomes the task's
// outcome as http_outcome.h says.
//
// Inside: one transfer thread per stage drives a libcurl multi handle, whose
// connection cache keeps connections alive between requests; at most
// spec.concurrency requests in flight and as many connections. process()
// hands a task over through a small locked queue and wakes the thread with
// curl_multi_wakeup; it never blocks on the network.
//
// States: kNew -init()-> kRunning -close()-> kClosing -> kClosed.
// Threads: init(), process() and close() from the worker. `done` runs on
// the process() caller (refusals, a payload that cannot be encoded), the
// transfer thread (responses, failures) or the close() caller (tasks still
// queued or in flight get retry("cancelled"), after the thread is joined);
// never with the lock held, so `done` may call process() again. After
// close() returns, no `done` runs.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "curl_handles.h"
#include "http_transfer.h"
#include "sluice/stage.h"
#include "sluice/topics/spec.h"

namespace sluice::stages {

struct HttpOptions {
  size_t max_body_bytes = size_t{16} * 1024 * 1024;  // a longer response: retry, kind error
};

// Uses spec.name, http, concurrency, timeout and max_outputs.
std::unique_ptr<Stage> make_http_stage(const topics::StageSpec& spec, HttpOptions options = {});

class HttpStage final : public Stage {
 public:
  HttpStage(topics::StageSpec spec, HttpOptions options);
  ~HttpStage() override;

  Status init(const StageContext& context) override;
  void process(const Task& task, Completion done) override;
  Status close() override;

 private:
  enum class State { kNew, kRunning, kClosing, kClosed };
  struct Request {
    std::string body;
    Completion done;
  };
  struct Active {
    std::unique_ptr<HttpTransfer> transfer;
    Completion done;
  };
  using Finished = std::vector<std::pair<Completion, Outcome>>;

  Status build_headers();
  Status build_multi();
  void run();
  void start_queued(Finished& finished);
  void collect_done(Finished& finished);
  void complete(Finished& finished);
  void cancel_all();
  Outcome closing() const;

  const topics::StageSpec spec_;
  const HttpOptions options_;
  TransferSettings settings_;
  // Declared before active_: a multi handle outlives the easy handles in it.
  CurlSlist headers_;
  CurlMulti multi_;
  std::map<CURL*, Active> active_;  // the transfer thread's, then close()'s

  std::mutex mu_;
  State state_ = State::kNew;
  std::deque<Request> queue_;  // handed over by process(), taken by the thread
  size_t in_flight_ = 0;       // queued + active, bounded by concurrency
  std::thread thread_;
};

}  // namespace sluice::stages
