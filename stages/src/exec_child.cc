#include "exec_child.h"

#include <pthread.h>
#include <sys/ioctl.h>
#include <spdlog/spdlog.h>

#include "line_reader.h"
#include "sluice/topics/utf8.h"

namespace sluice::stages {

namespace {

using std::chrono::milliseconds;

constexpr size_t kMaxStderrLine = size_t{64} * 1024;
constexpr size_t kTailLineBytes = 512;  // of each stderr line kept for a crash's error
constexpr milliseconds kExitWait{2000};        // EOF on stdout, until the exit status shows
constexpr milliseconds kDrainWait{1000};       // teardown: let readers finish what is buffered

bool blank(const std::string& line) { return line.find_first_not_of(" \t\r") == std::string::npos; }

// Valid UTF-8 and cut on a character boundary: it goes into the dead letter.
std::string excerpt(const std::string& line) {
  constexpr size_t kMax = 123;
  return topics::utf8_excerpt(line, kMax);
}

}  // namespace

Result<std::unique_ptr<ExecChild>> ExecChild::spawn(const std::vector<std::string>& argv,
                                                    ExecChildOptions options, ExecChildHost* host) {
  auto process = ChildProcess::spawn(argv, options.setup);
  if (!process.is_ok()) return process.status();
  return std::unique_ptr<ExecChild>(
      new ExecChild(std::move(process).value(), std::move(options), host));
}

ExecChild::ExecChild(std::unique_ptr<ChildProcess> process, ExecChildOptions options,
                     ExecChildHost* host)
    : process_(std::move(process)),
      options_(std::move(options)),
      host_(host),
      started_at_(std::chrono::steady_clock::now()) {}

void ExecChild::start() {
  SLUICE_CHECK(!reader_.joinable(), "ExecChild started twice");
  std::promise<void> reader_promise, stderr_promise;
  reader_done_ = reader_promise.get_future();
  stderr_done_ = stderr_promise.get_future();
  stdin_ = process_->take_stdin();
  writer_ = std::thread(&ExecChild::writer_loop, this);
  reader_ =
      std::thread([this, fd = process_->take_stdout(), p = std::move(reader_promise)]() mutable {
        reader_loop(std::move(fd));
        p.set_value();
      });
  stderr_ =
      std::thread([this, fd = process_->take_stderr(), p = std::move(stderr_promise)]() mutable {
        stderr_loop(std::move(fd));
        p.set_value();
      });
  exit_watcher_ = std::thread([this] { process_->wait_for_exit(std::chrono::hours(24 * 365)); });
}

ExecChild::~ExecChild() {
  process_->kill_and_reap();
  // The child is gone, so its pipes are at EOF unless a grandchild that left
  // our process group holds them: drain briefly (a traceback on stderr is
  // worth logging), then wake whatever still blocks.
  auto deadline = std::chrono::steady_clock::now() + kDrainWait;
  if (reader_done_.valid()) reader_done_.wait_until(deadline);
  if (stderr_done_.valid()) stderr_done_.wait_until(deadline);
  wake_.signal();
  for (std::thread* t : {&writer_, &reader_, &stderr_, &exit_watcher_}) {
    if (t->joinable()) t->join();
  }
}

void ExecChild::stop(Millis grace, Millis term_grace) {
  if (process_->wait_for_exit(grace)) return;
  spdlog::warn("{} did not exit {} ms after its stdin closed; sending SIGTERM", who(),
               grace.count());
  process_->signal(SIGTERM);
  if (process_->wait_for_exit(term_grace)) return;
  spdlog::warn("{} ignored SIGTERM for {} ms; sending SIGKILL", who(), term_grace.count());
  process_->kill_and_reap();
}

void ExecChild::writer_loop() {
  // Writing to a pipe whose reader is gone raises SIGPIPE, which would kill
  // the whole worker. Blocked in this thread only, it turns into EPIPE, and
  // the pending signal dies with the thread.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
  while (auto line = host_->next_line(options_.generation)) {
    Status st = write_all(stdin_.get(), *line, wake_.get());
    if (st.is_ok()) {
      stdin_bytes_ += line->size();
      continue;
    }
    if (st.code() == StatusCode::kCancelled) return;  // teardown
    // Usually the child is exiting and the reader reports how. A child that
    // closed its stdin but runs on would never get work again: kill it.
    if (process_->wait_for_exit(kExitWait)) return;
    kill();
    host_->on_failure(options_.generation, "protocol",
                      who() + " closed its stdin (" + st.message() + "); killed it", true);
    return;
  }
  // EOF on stdin is how the child learns to finish and exit.
  std::lock_guard lock(stdin_mutex_);
  stdin_.reset();
}

// Whether the child read anything written to its stdin: what the pipe still
// holds (FIONREAD) is less than what went in. A closed stdin says nothing,
// so it counts as read.
bool ExecChild::read_input() {
  std::lock_guard lock(stdin_mutex_);
  if (!stdin_.valid()) return true;
  int unread = 0;
  if (::ioctl(stdin_.get(), FIONREAD, &unread) != 0) return true;
  return static_cast<uint64_t>(unread) < stdin_bytes_.load();
}

void ExecChild::reader_loop(UniqueFd out) {
  LineReader reader(out.get(), wake_.get(), options_.max_line_bytes);
  std::string line;
  for (;;) {
    switch (reader.next(&line)) {
      case ReadStatus::kLine:
        if (!handle_line(line)) return;
        continue;
      case ReadStatus::kTooLong:
        return report_garbage("a line longer than " + std::to_string(options_.max_line_bytes) +
                              " bytes");
      case ReadStatus::kWoken:
        return;
      case ReadStatus::kEof:
      case ReadStatus::kError:
        return report_exit();
    }
  }
}

// False when the line is garbage (the child has then been killed).
bool ExecChild::handle_line(const std::string& line) {
  if (blank(line)) return true;
  auto result = parse_result_line(line, options_.max_line_bytes, options_.max_outputs);
  if (!result.is_ok()) {
    report_garbage(result.status().message() + ": " + excerpt(line));
    return false;
  }
  host_->on_result(options_.generation, std::move(result).value());
  return true;
}

void ExecChild::report_exit() {
  auto status = process_->wait_for_exit(kExitWait);
  std::string how;
  if (!status) {
    how = "closed its stdout but kept running; killed it, and it ";
    status = process_->kill_and_reap();
  }
  std::string message = who() + " " + how + describe_exit(status.value_or(-1));
  // The child is gone, so its stderr closes at once (unless a grandchild holds it).
  std::string tail = stderr_tail(std::chrono::milliseconds(500));
  if (!tail.empty()) message += "; its stderr ended with: " + tail;
  host_->on_failure(options_.generation, "crash", message, read_input());
}

std::string ExecChild::stderr_tail(std::chrono::milliseconds wait_for_close) {
  constexpr size_t kMaxTailBytes = 1024;
  std::unique_lock lock(stderr_mutex_);
  stderr_cv_.wait_for(lock, wait_for_close, [this] { return stderr_closed_; });
  std::string tail;
  for (const std::string& line : stderr_lines_) tail += (tail.empty() ? "" : " | ") + line;
  // The end matters most (the exception after its traceback): keep the last bytes.
  if (tail.size() > kMaxTailBytes) tail = "..." + tail.substr(tail.size() - kMaxTailBytes);
  return topics::to_valid_utf8(tail);
}

void ExecChild::report_garbage(const std::string& why) {
  process_->kill_and_reap();
  host_->on_failure(options_.generation, "protocol",
                    who() + " wrote an invalid line (" + why + "); killed it", read_input());
}

// Each line is logged, up to kStderrLinesPerSecond (a burst of twice that):
// a child flooding stderr must not flood the worker's log or its CPU.
// Dropped lines are counted and said once logging resumes; the tail kept for
// a crash's error sees every line.
void ExecChild::stderr_loop(UniqueFd err) {
  constexpr size_t kTailLines = 10;
  constexpr double kStderrLinesPerSecond = 100;
  constexpr double kBurst = 2 * kStderrLinesPerSecond;
  LineReader reader(err.get(), wake_.get(), kMaxStderrLine);
  std::string line;
  double tokens = kBurst;
  auto refilled = std::chrono::steady_clock::now();
  uint64_t dropped = 0;
  auto say_dropped = [&] {
    if (dropped == 0) return;
    spdlog::warn("stage {} [pid {}]: dropped {} stderr lines (over {} lines/s)", options_.stage,
                 pid(), dropped, kStderrLinesPerSecond);
    dropped = 0;
  };
  for (;;) {
    ReadStatus st = reader.next(&line);
    if (st != ReadStatus::kLine && st != ReadStatus::kTooLong) break;
    auto now = std::chrono::steady_clock::now();
    tokens = std::min(kBurst, tokens + kStderrLinesPerSecond *
                                           std::chrono::duration<double>(now - refilled).count());
    refilled = now;
    if (tokens >= 1) {
      tokens -= 1;
      say_dropped();
      spdlog::info("stage {} [pid {}]: {}{}", options_.stage, pid(), line,
                   st == ReadStatus::kTooLong ? " [truncated]" : "");
    } else {
      ++dropped;
    }
    if (blank(line)) continue;
    std::lock_guard lock(stderr_mutex_);
    if (stderr_lines_.size() == kTailLines) stderr_lines_.pop_front();
    stderr_lines_.push_back(line.substr(0, kTailLineBytes));
  }
  say_dropped();
  std::lock_guard lock(stderr_mutex_);
  stderr_closed_ = true;
  stderr_cv_.notify_all();
}

std::string ExecChild::who() const {
  return "stage " + options_.stage + ": child pid " + std::to_string(pid());
}

}  // namespace sluice::stages
