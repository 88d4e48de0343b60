// Shared plumbing of the CLI commands: loading the spec, resolving where the
// broker is, printing one-line errors, exit codes, and the stop flag that
// SIGTERM/SIGINT/SIGHUP raise.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "sluice/embedded_broker.h"
#include "sluice/kafka_options.h"
#include "sluice/status.h"
#include "sluice/topics/spec.h"

namespace sluice::ops {

// The exit codes of README.md: 0 ok, 1 runtime failure, 2 bad usage or bad
// spec, 3 busy (admission refused: the entry stage is full).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitBusy = 3;

int exit_code(const Status& status);
// Prints "sluice: <message>" on stderr and returns exit_code(status).
int report(const Status& status);

// A loaded spec and the Kafka options to reach its broker. With
// `brokers: embedded`, the in-process broker is started here, its topics
// created, and kept alive as long as this object.
struct Target {
  topics::PipelineSpec spec;
  KafkaOptions kafka;
  std::unique_ptr<EmbeddedBroker> embedded;
};
Result<Target> load_target(const std::string& spec_path);
// load_target for a command that needs a broker outside this process
// (submit, verify): `brokers: embedded` is kUsage "SPEC: brokers is
// embedded: there is no broker outside this process to <to_do>".
Result<Target> load_external_target(const std::string& spec_path, const std::string& to_do);

// A kNotFound topic error, with "; create it with `sluice topics apply -f
// SPEC_FILE`"; any other status as it is.
Status with_apply_hint(const Status& status, const std::string& spec_file);

// Writes `line` and a newline to stdout and flushes. A reader that went
// away (EPIPE: `sluice tail | head`) is kCancelled, for the caller to stop
// quietly; any other failure is kFatal naming the cause.
Status write_line(const std::string& line);
// Flushes stdout, and tells a failed write since the last flush as
// write_line() does. With SIGPIPE ignored, this is how a command learns
// that its reader left.
Status flush_stdout();

// True when stdout is a pipe whose reading end was closed.
bool stdout_reader_gone();
// Raised by SIGTERM, SIGINT and SIGHUP once install_stop_signals() ran, which also
// ignores SIGPIPE: writes to a closed pipe then fail with EPIPE instead.
const std::atomic<bool>& stop_requested();
// Set by a second SIGTERM or SIGINT: the graceful stop gives up its waits.
const std::atomic<bool>& abandon_requested();
void install_stop_signals();
// Raises the same flag from inside the process (a worker failed).
void request_stop();

// SLUICE_LOG_LEVEL (trace, debug, info, warn, error, critical, off), else
// `fallback`; a value not understood is info, with a warning (log_level.h).
// The format: `format_flag` (--log-format: text or json; empty: not given),
// else SLUICE_LOG_FORMAT, else text (json: json_log_formatter.h).
void configure_logging(const std::string& fallback, const std::string& format_flag = {});
// Whether configure_logging chose JSON lines (the supervisor passes it on).
bool json_logs();
// After configure_logging: logs go to the file at `path` (appended, flushed
// line by line) instead of stderr; errors still go to stderr. kUsage when
// the file cannot be opened.
Status log_to_file(const std::string& path);

}  // namespace sluice::ops
