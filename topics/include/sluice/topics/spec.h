// The pipeline spec: the validated, in-memory form of a pipeline YAML file.
//
// A PipelineSpec is produced only by load_spec_file()/parse_spec(), which
// refuse anything invalid with a kUsage Status naming file, line and field.
// Every stage carries its fully resolved settings (stage fields override
// `defaults`), so nothing downstream needs to know about defaults.
// Plain values: copy freely, share read-only between threads.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sluice/status.h"

namespace sluice::topics {

using Millis = std::chrono::milliseconds;

enum class StageKind { kExec, kHttp, kBuiltin };
enum class Guarantee { kAtLeastOnce, kExactlyOnce };

// kTopic: a failed attempt is produced to <p>.<stage>.retry and its input
// offset is done (a retried task may be overtaken by later tasks of its key).
// kInPlace: the task waits in memory; its key and its partition's commit
// wait behind it (per-key order holds).
enum class RetryMode { kTopic, kInPlace };

struct RetryPolicy {
  int max_attempts = 5;
  Millis backoff{1000};
  Millis max_backoff{300000};
  RetryMode mode = RetryMode::kTopic;
};

// Opens when, within the last `window`, at least `failures` attempts failed
// (retryably) and they were at least `failure_rate` percent of the attempts
// that ended; stays open for `cool_down`, then lets probe tasks through.
struct CircuitPolicy {
  bool enabled = false;  // `circuit: off` (the default) or a map
  int failures = 20;
  int failure_rate = 50;  // percent
  Millis window{30000};
  Millis cool_down{30000};
};

// kind http: where and how each task is sent. Header values are taken after
// ${VAR} substitution (an API key from the environment).
struct HttpSpec {
  std::string url;  // http:// or https://
  std::string method = "POST";
  std::map<std::string, std::string> headers;
};

// builtin dedupe: a task whose identity (the job id, or the JSON text of the
// payload's top-level `field`) the stage passed within `window` is dropped.
struct DedupeSpec {
  Millis window{0};   // at least 1s; 0 only when the stage is no dedupe
  std::string field;  // empty: the job id
};

// builtin gather: how long it waits for the rest of what it gathers.
struct GatherSpec {
  Millis timeout{0};  // at least 1ms; 0 only when the stage is no gather
};

struct BackpressurePolicy {
  int64_t high_watermark = 10000;
  int64_t low_watermark = 1000;
};

// `scale`: how many workers the stage runs, for `sluice k8s` (KEDA's
// minReplicaCount and maxReplicaCount) and the autoscaler. max 0: as many as
// its input has partitions (more would idle; a larger max is capped there).
struct ScalePolicy {
  int min = 1;
  int max = 0;
  int max_for(int partitions) const { return max == 0 ? partitions : std::min(max, partitions); }
};

// Service levels the stage promises, for alerting (ops/prometheus): the
// exporter serves them as gauges the alert rules compare against.
struct SloPolicy {
  // The 99th percentile of the time from a job's submission to the end of
  // its task at this stage (sluice_end_to_end_seconds). Absent: none.
  std::optional<Millis> end_to_end_p99;
};

struct StageSpec {
  std::string name;
  // The line of each key the stage sets in its file ("builtin" -> 7), for
  // checks made after loading (stage_field_error); empty if not from a file.
  std::map<std::string, int> key_lines;
  StageKind kind = StageKind::kBuiltin;
  std::vector<std::string> command;  // exec: argv, never run through a shell
  std::string builtin;               // builtin: registered name
  HttpSpec http;                     // http: where each task goes
  DedupeSpec dedupe;                 // builtin dedupe only
  GatherSpec gather;                 // builtin gather only
  std::vector<std::string> next;     // empty: outputs go to <pipeline>.done
  int partitions = 6;
  int replication = 1;
  Guarantee guarantee = Guarantee::kAtLeastOnce;
  int concurrency = 1;
  Millis timeout{30000};
  // How often a worker commits its input offsets (at_least_once) or its
  // transaction (exactly_once). Absent: 1 s, or 100 ms under exactly_once.
  std::optional<Millis> commit_interval;
  RetryPolicy retry;
  CircuitPolicy circuit;
  BackpressurePolicy backpressure;
  ScalePolicy scale;
  SloPolicy slo;
  // KEDA's lagThreshold (`sluice k8s`): the records waiting per worker above
  // which another worker is added. 0: the stage's backpressure.low_watermark.
  int64_t lag_threshold = 0;
  int64_t lag_threshold_or_default() const {
    return lag_threshold > 0 ? lag_threshold : std::max<int64_t>(1, backpressure.low_watermark);
  }
  bool state = false;
  // state: where its workers keep their stores (`sluice run --state-dir`
  // wins); relative to the spec file's directory. Empty: the default.
  std::string state_dir;
  // exec: the child's environment is the worker's (inherit_env) or a minimal
  // one, plus `env` (values after ${VAR} substitution).
  std::map<std::string, std::string> env;
  bool inherit_env = true;
  int max_outputs = 1000;  // exec, http: more in one result is a protocol error
  // state: the keys and values one task may write (its changelog records
  // must fit the broker's record limit); more fails the task.
  int max_state_bytes = 256 * 1024;
  // A worker's memory: it stops consuming while the tasks it consumed but has
  // not yet produced the results of reach either bound (and resumes below
  // half of both). Bytes are their input records' values.
  int max_buffered_tasks = 10000;
  int max_buffered_bytes = 64 * 1024 * 1024;
  // exec: the child's working directory, the spec file's directory (absolute),
  // so that relative paths in `command` mean the same from any cwd.
  std::string workdir;
};

struct KafkaSpec {
  std::string brokers = "127.0.0.1:9092";  // "embedded": in-process mock cluster
  std::map<std::string, std::string> properties;  // passed to librdkafka as-is
  bool embedded() const { return brokers == "embedded"; }
};

struct PipelineSpec {
  std::string file;  // where it was loaded from, for messages
  std::string pipeline;
  KafkaSpec kafka;
  std::vector<StageSpec> stages;  // in file order

  // The stage no other stage names in `next`; validation guarantees one.
  const StageSpec& entry_stage() const;
  // nullptr when no stage has that name.
  const StageSpec* find_stage(const std::string& name) const;
  // For a name given on the command line: the stage, else kUsage
  // "FILE: no stage named 'x' (did you mean 'y'?)".
  Result<const StageSpec*> require_stage(const std::string& name) const;
  // " (did you mean 'y'?)" for the stage closest to a misspelt `name`, else "".
  std::string stage_hint(const std::string& name) const;
};

// Parses and validates. Errors are kUsage, one line: "FILE:LINE: FIELD: what"
// (LINE 1-based, FIELD a path such as stages[1].retry.backoff); YAML syntax
// errors read "FILE:LINE: yaml: what". load_spec_file refuses an unreadable
// file with "cannot read spec FILE: <strerror>". load_spec_file also sets
// every stage's workdir to the file's directory; parse_spec leaves it empty
// (children then start in the worker's cwd).
Result<PipelineSpec> parse_spec(const std::string& yaml_text,
                                const std::string& file_name);
Result<PipelineSpec> load_spec_file(const std::string& path);

// A kUsage "FILE:LINE: stages[I].FIELD: what", the shape of every spec error,
// for checks the loader cannot make (a builtin's name needs the registry).
// LINE is FIELD's key in the file, else the stage's `name:`. `stage` must
// be one of spec.stages.
Status stage_field_error(const PipelineSpec& spec, const StageSpec& stage,
                         const std::string& field, const std::string& what);

// "250ms", "30s", "5m", "1h" -> milliseconds: a whole number and one unit,
// at most 8760h. Refuses "", "10", "-1s", "1.5s", "10x" with a kUsage Status
// whose text names the problem (no file or line: callers add those).
Result<Millis> parse_duration(const std::string& text);
// The inverse, in the largest unit that divides evenly: 90000ms -> "90s".
std::string format_duration(Millis d);

}  // namespace sluice::topics
