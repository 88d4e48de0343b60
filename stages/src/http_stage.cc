#include "http_stage.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "exec_protocol.h"

namespace sluice::stages {

namespace {

// How long the transfer thread sleeps when nothing happens; curl_multi_poll
// returns sooner for a wakeup, a socket or one of libcurl's own timers.
constexpr int kIdlePollMs = 1000;

bool same_name(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

bool has_header(const std::map<std::string, std::string>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return same_name(h.first, name); });
}

}  // namespace

std::unique_ptr<Stage> make_http_stage(const topics::StageSpec& spec, HttpOptions options) {
  return std::make_unique<HttpStage>(spec, options);
}

HttpStage::HttpStage(topics::StageSpec spec, HttpOptions options)
    : spec_(std::move(spec)), options_(options) {
  settings_.url = spec_.http.url;
  settings_.method = spec_.http.method.empty() ? "POST" : spec_.http.method;
  settings_.timeout = spec_.timeout;
  settings_.max_body_bytes = options_.max_body_bytes;
  settings_.max_outputs = static_cast<size_t>(std::max(0, spec_.max_outputs));
  settings_.where = "stage " + spec_.name + ": " + settings_.method + " " + settings_.url;
}

HttpStage::~HttpStage() { static_cast<void>(close()); }

Status HttpStage::init(const StageContext& context) {
  {
    std::lock_guard lock(mu_);
    SLUICE_CHECK(state_ == State::kNew, "HttpStage::init() called twice");
  }
  if (!curl_ready()) return fatal_error(settings_.where + ": libcurl failed to initialise");
  if (Status st = build_headers(); !st.is_ok()) return st;
  if (Status st = build_multi(); !st.is_ok()) return st;
  std::lock_guard lock(mu_);
  state_ = State::kRunning;
  thread_ = std::thread(&HttpStage::run, this);
  return Status::ok();
}

// The spec's headers, plus a JSON content type unless the spec names one,
// and no "Expect: 100-continue" (a round trip per request for big bodies).
Status HttpStage::build_headers() {
  std::vector<std::string> lines;
  if (!has_header(spec_.http.headers, "Content-Type")) {
    lines.push_back(std::string("Content-Type: ") + kJsonContentType);
  }
  if (!has_header(spec_.http.headers, "Expect")) lines.push_back("Expect:");  // removes it
  for (const auto& [name, value] : spec_.http.headers) {
    if (name.empty() || name.find_first_of(":\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos) {
      return usage_error(settings_.where + ": header '" + name +
                         "' is empty, or has a line break or (in its name) a ':'");
    }
    // "Name;" is libcurl's spelling of a header sent with an empty value.
    lines.push_back(value.empty() ? name + ";" : name + ": " + value);
  }
  for (const std::string& line : lines) {
    curl_slist* list = curl_slist_append(headers_.get(), line.c_str());
    if (list == nullptr) return fatal_error(settings_.where + ": out of memory for headers");
    static_cast<void>(headers_.release());  // `list` is the same list, one longer
    headers_.reset(list);
  }
  settings_.headers = headers_.get();
  return Status::ok();
}

// At most `concurrency` connections, to the one host and in all, and a
// cache that keeps as many open between requests (keep-alive).
Status HttpStage::build_multi() {
  multi_.reset(curl_multi_init());
  if (!multi_) return fatal_error(settings_.where + ": curl_multi_init failed");
  long bound = std::max(1, spec_.concurrency);
  for (CURLMoption option :
       {CURLMOPT_MAX_TOTAL_CONNECTIONS, CURLMOPT_MAX_HOST_CONNECTIONS, CURLMOPT_MAXCONNECTS}) {
    if (CURLMcode code = curl_multi_setopt(multi_.get(), option, bound); code != CURLM_OK) {
      return fatal_error(settings_.where + ": " + curl_multi_strerror(code));
    }
  }
  return Status::ok();
}

Outcome HttpStage::closing() const {
  return Outcome::retry("cancelled", settings_.where + ": the stage is closing");
}

void HttpStage::process(const Task& task, Completion done) {
  auto line = encode_task(task);
  if (!line.is_ok()) {
    return done(unencodable_task(line.status(), settings_.where));
  }
  std::unique_lock lock(mu_);
  SLUICE_CHECK(state_ != State::kNew, "HttpStage::process() before init()");
  size_t bound = static_cast<size_t>(std::max(1, spec_.concurrency));
  if (state_ != State::kRunning) {
    lock.unlock();
    return done(closing());
  }
  if (in_flight_ >= bound) {
    lock.unlock();
    // The engine bounds in-flight tasks by `concurrency`; more is its bug,
    // and queueing them would make memory unbounded.
    return done(Outcome::refused(settings_.where + ": more tasks than concurrency " +
                                 std::to_string(bound)));
  }
  ++in_flight_;
  queue_.push_back({std::move(line).value(), std::move(done)});
  lock.unlock();
  curl_multi_wakeup(multi_.get());
}

// The transfer thread: start what process() queued, let libcurl move every
// transfer on, hand out what finished, sleep until something happens.
void HttpStage::run() {
  for (;;) {
    Finished finished;
    start_queued(finished);
    int running = 0;
    curl_multi_perform(multi_.get(), &running);
    collect_done(finished);
    complete(finished);
    {
      std::lock_guard lock(mu_);
      if (state_ != State::kRunning) return;
    }
    curl_multi_poll(multi_.get(), nullptr, 0, kIdlePollMs, nullptr);
  }
}

void HttpStage::start_queued(Finished& finished) {
  std::deque<Request> fresh;
  {
    std::lock_guard lock(mu_);
    fresh.swap(queue_);
  }
  for (Request& request : fresh) {
    auto transfer = HttpTransfer::make(settings_, std::move(request.body));
    CURLMcode added = CURLM_OK;
    if (transfer.is_ok()) added = curl_multi_add_handle(multi_.get(), (*transfer)->easy());
    if (!transfer.is_ok() || added != CURLM_OK) {
      std::string why = transfer.is_ok() ? settings_.where + ": " + curl_multi_strerror(added)
                                         : transfer.status().message();
      finished.emplace_back(std::move(request.done), Outcome::retry("error", why));
      continue;
    }
    CURL* easy = (*transfer)->easy();
    active_.emplace(easy, Active{std::move(transfer).value(), std::move(request.done)});
  }
}

void HttpStage::collect_done(Finished& finished) {
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_.get(), &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    auto it = active_.find(message->easy_handle);
    SLUICE_CHECK(it != active_.end(), settings_.where + ": a transfer libcurl finished is unknown");
    CURLcode result = message->data.result;  // `message` is invalid after the removal
    curl_multi_remove_handle(multi_.get(), it->first);
    finished.emplace_back(std::move(it->second.done), it->second.transfer->outcome(result));
    active_.erase(it);
  }
}

// The slots are free before `done` runs, so that `done` may call process().
void HttpStage::complete(Finished& finished) {
  if (finished.empty()) return;
  {
    std::lock_guard lock(mu_);
    in_flight_ -= finished.size();
  }
  for (auto& [done, outcome] : finished) done(std::move(outcome));
}

Status HttpStage::close() {
  {
    std::lock_guard lock(mu_);
    if (state_ == State::kNew || state_ == State::kClosed) {
      state_ = State::kClosed;
      return Status::ok();
    }
    state_ = State::kClosing;
  }
  curl_multi_wakeup(multi_.get());
  if (thread_.joinable()) thread_.join();
  cancel_all();
  std::lock_guard lock(mu_);
  state_ = State::kClosed;
  return Status::ok();
}

// In-flight transfers are abandoned mid-way (their connections closed); they
// and the queued tasks are retried, as an exec stage's are at close.
void HttpStage::cancel_all() {
  Finished finished;
  for (auto& [easy, active] : active_) {
    curl_multi_remove_handle(multi_.get(), easy);
    finished.emplace_back(std::move(active.done), closing());
  }
  active_.clear();
  std::deque<Request> queued;
  {
    std::lock_guard lock(mu_);
    queued.swap(queue_);
  }
  for (Request& request : queued) finished.emplace_back(std::move(request.done), closing());
  complete(finished);
  if (!finished.empty()) {
    spdlog::info("{}: closed with {} tasks unfinished (retried)", settings_.where, finished.size());
  }
}

}  // namespace sluice::stages
