#include "cli_support.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <poll.h>
#include <unistd.h>

#include "json_log_formatter.h"
#include "log_level.h"

namespace sluice::ops {
namespace {

constexpr const char* kLogPattern = "%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v";

std::atomic<bool> g_stop{false};
bool g_json_logs = false;  // set once, before any thread logs
std::atomic<bool> g_abandon{false};

// The first SIGTERM, SIGINT or SIGHUP (the terminal closed) asks for a
// graceful stop; the second ends its waits at once (what was not committed
// is logged, and runs again).
extern "C" void on_stop_signal(int) {
  if (g_stop.exchange(true)) g_abandon.store(true);
}

}  // namespace

int exit_code(const Status& status) {
  if (status.is_ok()) return kExitOk;
  if (status.code() == StatusCode::kBusy) return kExitBusy;
  return status.code() == StatusCode::kUsage ? kExitUsage : kExitFailure;
}

int report(const Status& status) {
  if (!status.is_ok()) std::fprintf(stderr, "sluice: %s\n", status.message().c_str());
  return exit_code(status);
}

Result<Target> load_target(const std::string& spec_path) {
  auto spec = topics::load_spec_file(spec_path);
  if (!spec.is_ok()) return spec.status();
  Target target{std::move(spec).value(), {}, nullptr};
  target.kafka = KafkaOptions::from_spec(target.spec.kafka);
  if (!target.spec.kafka.embedded()) return target;
  auto broker = EmbeddedBroker::start();
  if (!broker.is_ok()) return broker.status();
  target.embedded = std::move(broker).value();
  target.kafka.bootstrap = target.embedded->bootstrap();
  if (Status s = target.embedded->create_topics(target.spec); !s.is_ok()) return s;
  spdlog::warn("using the embedded broker: it keeps nothing after this process exits");
  return target;
}

Result<Target> load_external_target(const std::string& spec_path, const std::string& to_do) {
  auto target = load_target(spec_path);
  if (target.is_ok() && target->embedded) {
    return usage_error(spec_path +
                       ": brokers is embedded: there is no broker outside this process to " +
                       to_do);
  }
  return target;
}

Status with_apply_hint(const Status& status, const std::string& spec_file) {
  if (status.code() != StatusCode::kNotFound) return status;
  return not_found(status.message() + "; create it with `sluice topics apply -f " + spec_file +
                   "`");
}

bool stdout_reader_gone() {
  pollfd out{STDOUT_FILENO, POLLOUT, 0};
  return poll(&out, 1, 0) == 1 && (out.revents & POLLERR) != 0;
}

const std::atomic<bool>& stop_requested() { return g_stop; }

const std::atomic<bool>& abandon_requested() { return g_abandon; }

void request_stop() { g_stop.store(true); }

void install_stop_signals() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a dead exec child must not kill us
}

Status flush_stdout() {
  if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return Status::ok();
  // errno may come from an earlier write; the pipe itself says for sure.
  if (errno == EPIPE || stdout_reader_gone()) {
    return Status(StatusCode::kCancelled, "standard output was closed");
  }
  return fatal_error(std::string("cannot write to standard output: ") + std::strerror(errno));
}

Status write_line(const std::string& line) {
  errno = 0;
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  return flush_stdout();  // a failed write above leaves the stream's error flag set
}

static void set_format(spdlog::sinks::sink& sink) {
  if (g_json_logs) {
    sink.set_formatter(std::make_unique<JsonLogFormatter>());
  } else {
    sink.set_pattern(kLogPattern);
  }
}

void configure_logging(const std::string& fallback, const std::string& format_flag) {
  LogFormatChoice format = choose_log_format(format_flag, std::getenv("SLUICE_LOG_FORMAT"));
  g_json_logs = format.json;
  // Logs go to stderr: stdout carries data (job ids, tailed records). No
  // colours in JSON: a terminal's escape codes would be in the line.
  spdlog::set_default_logger(g_json_logs ? spdlog::stderr_logger_mt("sluice")
                                         : spdlog::stderr_color_mt("sluice"));
  for (auto& sink : spdlog::default_logger()->sinks()) set_format(*sink);
  LogLevelChoice choice = choose_log_level(std::getenv("SLUICE_LOG_LEVEL"), fallback);
  spdlog::set_level(spdlog::level::from_str(choice.level));
  if (!choice.warning.empty()) spdlog::warn("{}", choice.warning);
  if (!format.warning.empty()) spdlog::warn("{}", format.warning);
}

bool json_logs() { return g_json_logs; }

Status log_to_file(const std::string& path) {
  std::shared_ptr<spdlog::sinks::sink> file;
  try {
    file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path);
  } catch (const spdlog::spdlog_ex& e) {
    return usage_error(std::string("--log-file: ") + e.what());
  }
  set_format(*file);
  // Before any thread logs: the default logger keeps its level, loses stderr.
  spdlog::logger& logger = *spdlog::default_logger();
  logger.sinks() = {file};
  // Someone reading the file (tail -f) sees each line as it is logged.
  logger.flush_on(spdlog::level::trace);
  return Status::ok();
}

}  // namespace sluice::ops
