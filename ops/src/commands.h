// The `sluice` subcommands. Each returns the process exit code (0 ok,
// 1 runtime failure, 2 bad usage or bad spec) and reports errors itself, one
// line on stderr. cli_app.cc maps the command line onto these options.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::ops {

int validate_command(const std::string& spec_path);
int topics_apply_command(const std::string& spec_path);

struct RunOptions {
  std::string spec_path;
  std::string stage;  // a stage name, or "all"
  std::string metrics_addr;  // empty: no /metrics endpoint
  std::string log_file;      // empty: logs go to stderr
  std::string instance;      // exactly_once: this worker's name; empty: <host>-<pid>
  std::string state_dir;     // stateful stages' stores; empty: the user's data dir
};
int run_command(const RunOptions& options);

struct SubmitOptions {
  std::string spec_path;
  std::optional<std::string> key;
  std::optional<std::string> key_field;
  std::optional<std::string> deadline;  // a duration from now or an RFC 3339 time
  std::string job;  // a JSON document, or "-" for JSON lines on stdin
  // While the entry stage is full: how long to wait for room in all (a
  // duration), or with no_wait, none: exit 3 at once.
  std::string wait = "60s";
  bool no_wait = false;
};
int submit_command(const SubmitOptions& options);

struct ServeOptions {
  std::string spec_path;
  std::string addr;  // HOST:PORT (a bare PORT: 127.0.0.1:PORT)
  std::optional<std::string> token_file;  // else $SLUICE_SERVE_TOKEN, else no token
  size_t max_request_bytes = size_t{1} << 20;
  size_t max_jobs_per_request = 10000;
  int max_connections = 16;
  size_t producers = 4;
};
int serve_command(const ServeOptions& options);

struct UpOptions {
  std::string spec_path;
  std::vector<std::string> scale;  // "STAGE=N"; every other stage gets 1
  std::string control;             // the control socket; empty: control_socket_path()
  std::string state_dir;           // passed to every `sluice run`
  std::string metrics_addr;        // HOST:PORT, the first worker's; empty: no /metrics
  std::string targets_file;        // Prometheus file_sd of the running workers; empty: none
  bool autoscale = false;          // autoscaler.h, between each stage's scale.min and max
  std::string target_drain = "1m";
  std::string cool_down = "30s";
  std::string idle_after = "1m";
};
int up_command(const UpOptions& options);

struct ScaleOptions {
  std::string spec_path;
  std::string stage;
  int count = 0;
  std::string control;
};
int scale_command(const ScaleOptions& options);

struct K8sCommandOptions {
  std::string spec_path;
  std::string image = "sluice:latest";
  std::string namespace_name;
};
int k8s_command(const K8sCommandOptions& options);

struct ExporterOptions {
  std::string spec_path;
  std::string metrics_addr;  // HOST:PORT (a bare PORT: 127.0.0.1:PORT)
  std::string interval = "5s";
};
int exporter_command(const ExporterOptions& options);

struct StatusOptions {
  std::string spec_path;
  bool json = false;
  bool watch = false;
  std::string drain_target = "5m";  // workers_to_drain: how many would drain a stage this fast
};
int status_command(const StatusOptions& options);

struct TailOptions {
  std::string spec_path;
  std::string stage;      // --stage NAME: its input topic
  bool done = false;      // --done
  std::string dlq_stage;  // --dlq NAME
  bool from_beginning = false;
  long max_records = 0;   // 0: no limit
  std::chrono::milliseconds idle_timeout{0};  // 0: follow forever
};
int tail_command(const TailOptions& options);

// Which dead letters `sluice dlq list` and `sluice dlq replay` take: all
// of --stage's that match every filter given (strings as typed; dlq_filter.h
// reads them), the first `max` of them (0: no limit).
struct DlqSelection {
  std::string stage;
  std::string job;
  std::string error;  // a substring of the last error's message, or /REGEX/
  std::string kind;   // the last error's kind
  std::string since, until;  // a duration back from now ("10m"), or RFC 3339
  long max = 0;
  bool not_replayed = false;
};

struct DlqOptions {
  std::string spec_path;
  DlqSelection selection;
  bool json = false;     // list
  std::string rate;      // replay: "N/s"; empty: unlimited
  bool dry_run = false;  // replay
};
int dlq_list_command(const DlqOptions& options);
int dlq_replay_command(const DlqOptions& options);

// `sluice verify`: the jobs of --jobs FILE (what `submit` printed) against
// <p>.done and the DLQs; exit 1 when one is lost (or, under exactly_once,
// duplicated, or a transaction is left open), see verify_report.h.
struct VerifyOptions {
  std::string spec_path;
  std::string jobs_path;
  bool json = false;
  // How long a transaction open at the first look may take to end.
  std::chrono::milliseconds timeout{10000};
};
int verify_command(const VerifyOptions& options);

// `sluice state get|dump`: a stateful stage's state as its changelog holds
// it now, read with no worker running (state_command.cc). get exits 1 when
// the key has no such state.
struct StateOptions {
  std::string spec_path;
  std::string stage;
  std::string key;                   // get: the task key
  std::string name;                  // get: the state's name; "": the key's own
  bool json = false;                 // get: one JSON object, not the bare value
  std::optional<int32_t> partition;  // dump: only this changelog partition
};
int state_get_command(const StateOptions& options);
int state_dump_command(const StateOptions& options);

struct DemoOptions {
  int jobs = 2000;
};
int demo_command(const DemoOptions& options);

}  // namespace sluice::ops
