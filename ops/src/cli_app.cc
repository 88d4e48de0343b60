// The command line: CLI11 definitions of every subcommand, mapped onto the
// option structs of commands.h. Bad usage exits 2, like a bad spec.
#include "sluice/ops/cli.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <string_view>
#include <vector>

#include "cli_support.h"
#include "commands.h"
#include "sluice/kafka_options.h"
#include "sluice/ops/version.h"
#include "sluice/topics/spec.h"
#include "sluice/topics/suggest.h"

namespace sluice::ops {
namespace {

// CLI11 validator for durations in the spec's format ("10s", "500ms").
struct DurationValidator : CLI::Validator {
  DurationValidator() {
    name_ = "DURATION";
    func_ = [](const std::string& text) {
      auto parsed = topics::parse_duration(text);
      return parsed.is_ok() ? std::string() : parsed.status().message();
    };
  }
};

// CLI11 gives an option its next argument even when that is an option:
// `tail --dlq --from-beginning` read the flag as the stage's name.
const CLI::Validator kStageName(
    [](std::string& value) {
      return value.rfind('-', 0) == 0 ? "a stage name is needed, not the option " + value
                                      : std::string();
    },
    "STAGE");

void add_spec_option(CLI::App* command, std::string& path) {
  command->add_option("-f,--file", path, "Pipeline spec (YAML)")->required();
}

// For the commands that run and log (workers, supervisor, intake, exporter).
void add_log_format_option(CLI::App* command, std::string& format) {
  command->add_option("--log-format", format,
                      "Log lines as text (default) or json: one object a line, with job, task, "
                      "stage, attempt and error_kind on a task's lines (else $SLUICE_LOG_FORMAT)")
      ->check(CLI::IsMember({"text", "json"}));
}

// Everything the command line fills in; outlives parsing.
struct CliState {
  std::string spec;
  RunOptions run;
  SubmitOptions submit;
  StatusOptions status;
  ServeOptions serve;
  UpOptions up;
  K8sCommandOptions k8s;
  ExporterOptions exporter;
  ScaleOptions scale;
  TailOptions tail;
  std::string tail_idle;
  DlqOptions dlq;
  VerifyOptions verify;
  std::string verify_timeout;
  StateOptions state;
  DemoOptions demo;
  std::string log_format;  // --log-format of the long-running commands; empty: not given
  std::function<int()> action;
};

void add_validate_and_topics(CLI::App& app, CliState& s) {
  auto* validate = app.add_subcommand("validate", "Check a spec; touches nothing");
  add_spec_option(validate, s.spec);
  validate->callback([&s] { s.action = [&s] { return validate_command(s.spec); }; });
  auto* topics_cmd = app.add_subcommand("topics", "Manage the pipeline's topics");
  topics_cmd->require_subcommand(1);
  auto* apply = topics_cmd->add_subcommand("apply", "Create missing topics; report differences");
  add_spec_option(apply, s.spec);
  apply->callback([&s] { s.action = [&s] { return topics_apply_command(s.spec); }; });
}

void add_run(CLI::App& app, CliState& s) {
  auto* run = app.add_subcommand("run", "Run workers of one stage, or of all");
  add_spec_option(run, s.run.spec_path);
  add_log_format_option(run, s.log_format);
  run->add_option("--stage", s.run.stage, "Stage name, or all")->required();
  run->add_option("--metrics-addr", s.run.metrics_addr,
                 "Serve /metrics on HOST:PORT, or on 127.0.0.1:PORT for a bare PORT");
  run->add_option("--log-file", s.run.log_file,
                  "Write logs to this file (appended) instead of stderr");
  run->add_option("--instance", s.run.instance,
                  "exactly_once: this worker's name among its stage's workers ([A-Za-z0-9._-]; "
                  "keep it across restarts, unique among live workers; default <host>-<pid>)")
      ->envname("SLUICE_INSTANCE");
  run->add_option("--state-dir", s.run.state_dir,
                  "state: true: where workers keep their local state, under "
                  "<pipeline>/<stage>/<instance> (default $XDG_DATA_HOME/sluice/state, else "
                  "~/.local/share/sluice/state)")
      ->envname("SLUICE_STATE_DIR");
  run->callback([&s] { s.action = [&s] { return run_command(s.run); }; });
}

void add_submit(CLI::App& app, CliState& s) {
  auto* submit = app.add_subcommand("submit", "Submit jobs; prints their ids");
  add_spec_option(submit, s.submit.spec_path);
  submit->add_option("--key", s.submit.key, "Key of the job (default: its id)");
  submit->add_option("--key-field", s.submit.key_field, "Key each job by this payload field");
  submit->add_option("--deadline", s.submit.deadline,
                     "Every job's deadline: a duration from now (30s, 5m) or an RFC 3339 time "
                     "(2026-12-01T18:00:00Z)");
  submit->add_option("--wait", s.submit.wait,
                     "While the entry stage is full, wait this long in all for room (default "
                     "60s), then exit 3")
      ->capture_default_str();
  submit->add_flag("--no-wait", s.submit.no_wait,
                   "Exit 3 at once while the entry stage is full");
  submit->add_option("job", s.submit.job, "A JSON job, or - for JSON lines on stdin")->required();
  submit->callback([&s] { s.action = [&s] { return submit_command(s.submit); }; });
}

void add_serve(CLI::App& app, CliState& s) {
  auto* serve = app.add_subcommand("serve", "HTTP intake: POST /v1/jobs, GET /v1/health, /metrics");
  add_spec_option(serve, s.serve.spec_path);
  add_log_format_option(serve, s.log_format);
  serve->add_option("--addr", s.serve.addr, "Listen on HOST:PORT (a bare PORT: 127.0.0.1:PORT)")
      ->required();
  serve->add_option("--token-file", s.serve.token_file,
                    "Require 'Authorization: Bearer TOKEN' with the token in this file (else "
                    "$SLUICE_SERVE_TOKEN, if set)");
  serve->add_option("--max-request-bytes", s.serve.max_request_bytes,
                    "Larger request bodies get 413")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  serve->add_option("--max-jobs", s.serve.max_jobs_per_request, "Jobs in one request, at most")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1000000}));
  serve->add_option("--max-connections", s.serve.max_connections,
                    "Connections served at once (more wait in the backlog)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  serve->add_option("--producers", s.serve.producers,
                    "Requests producing to the broker at once")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{64}));
  serve->callback([&s] { s.action = [&s] { return serve_command(s.serve); }; });
}

void add_exporter(CLI::App& app, CliState& s) {
  auto* exporter = app.add_subcommand(
      "exporter", "Serve every stage's queue depth, oldest waiting age and workers on /metrics");
  add_spec_option(exporter, s.exporter.spec_path);
  add_log_format_option(exporter, s.log_format);
  exporter->add_option("--metrics-addr", s.exporter.metrics_addr,
                       "Serve /metrics on HOST:PORT (a bare PORT: 127.0.0.1:PORT)")
      ->required();
  exporter->add_option("--interval", s.exporter.interval, "How often to read the broker")
      ->capture_default_str();
  exporter->callback([&s] { s.action = [&s] { return exporter_command(s.exporter); }; });
}

void add_up_and_scale(CLI::App& app, CliState& s) {
  auto* up = app.add_subcommand("up", "Supervise worker processes of every stage on this machine");
  add_spec_option(up, s.up.spec_path);
  add_log_format_option(up, s.log_format);
  up->add_option("--scale", s.up.scale, "Workers of a stage, STAGE=N (default 1 each)")
      ->delimiter(',');
  up->add_option("--control", s.up.control,
                 "The control socket (default $XDG_RUNTIME_DIR/sluice/PIPELINE.sock)");
  up->add_option("--metrics-addr", s.up.metrics_addr,
                 "Each worker serves /metrics on HOST and a port of its own from PORT up (a "
                 "stage's workers after the partitions of the stages before it)");
  up->add_option("--targets-file", s.up.targets_file,
                 "With --metrics-addr: keep this Prometheus file_sd JSON listing the running "
                 "workers (ops/prometheus/targets/up-PIPELINE.json)");
  up->add_option("--state-dir", s.up.state_dir, "Passed to every worker (see run)")
      ->envname("SLUICE_STATE_DIR");
  up->add_flag("--autoscale", s.up.autoscale,
               "Add workers to the stage that drains slowest, remove them from idle ones, "
               "within each stage's scale: {min, max}");
  up->add_option("--target-drain", s.up.target_drain,
                 "--autoscale: add a worker to a stage whose queue drains slower than this")
      ->capture_default_str();
  up->add_option("--cool-down", s.up.cool_down,
                 "--autoscale: leave a stage alone this long after changing it")
      ->capture_default_str();
  up->add_option("--idle-after", s.up.idle_after,
                 "--autoscale: remove a worker from a stage idle this long")
      ->capture_default_str();
  up->callback([&s] { s.action = [&s] { return up_command(s.up); }; });

  auto* scale = app.add_subcommand("scale", "Change a running `sluice up`'s workers of a stage");
  add_spec_option(scale, s.scale.spec_path);
  scale->add_option("stage", s.scale.stage, "The stage")->required();
  scale->add_option("count", s.scale.count, "Its workers from now on")->required();
  scale->add_option("--control", s.scale.control, "The control socket of `sluice up`");
  scale->callback([&s] { s.action = [&s] { return scale_command(s.scale); }; });
}

void add_k8s(CLI::App& app, CliState& s) {
  auto* k8s = app.add_subcommand(
      "k8s", "Print Kubernetes manifests: a Deployment and a KEDA ScaledObject per stage");
  add_spec_option(k8s, s.k8s.spec_path);
  k8s->add_option("--image", s.k8s.image, "The container image with sluice and your agents")
      ->capture_default_str();
  k8s->add_option("--namespace", s.k8s.namespace_name, "metadata.namespace of every object");
  k8s->callback([&s] { s.action = [&s] { return k8s_command(s.k8s); }; });
}

void add_status(CLI::App& app, CliState& s) {
  auto* status = app.add_subcommand("status", "Workers and queue depth per stage");
  status->add_option("--drain-target", s.status.drain_target,
                     "How many workers would drain each stage within this time")
      ->capture_default_str();
  add_spec_option(status, s.status.spec_path);
  status->add_flag("--json", s.status.json, "One JSON object per refresh");
  status->add_flag("--watch", s.status.watch, "Refresh every 2 s until Ctrl-C: a live view redrawn in place on a terminal, plain frames otherwise");
  status->callback([&s] { s.action = [&s] { return status_command(s.status); }; });
}

void add_tail(CLI::App& app, CliState& s) {
  auto* tail = app.add_subcommand("tail", "Print records of a topic as JSON lines");
  add_spec_option(tail, s.tail.spec_path);
  tail->add_option("--stage", s.tail.stage, "The input topic of this stage")
      ->check(kStageName);
  tail->add_flag("--done", s.tail.done, "The pipeline's outputs (default)");
  tail->add_option("--dlq", s.tail.dlq_stage, "The dead letters of this stage")
      ->check(kStageName);
  tail->add_flag("--from-beginning", s.tail.from_beginning, "Start at the oldest record");
  tail->add_option("--max", s.tail.max_records, "Stop after this many records");
  tail->add_option("--idle-timeout", s.tail_idle, "Stop after this long without a record")
      ->check(DurationValidator());
  tail->callback([&s] {
    if (!s.tail_idle.empty()) s.tail.idle_timeout = topics::parse_duration(s.tail_idle).value();
    s.action = [&s] { return tail_command(s.tail); };
  });
}

// The flags `dlq list` and `dlq replay` share: the stage and the selection.
void add_dlq_selection(CLI::App* command, DlqOptions& dlq) {
  add_spec_option(command, dlq.spec_path);
  DlqSelection& sel = dlq.selection;
  command->add_option("--stage", sel.stage, "Whose dead letters: this stage's")
      ->required()
      ->check(kStageName);
  command->add_option("--job", sel.job, "Only this job's letters");
  command->add_option("--error", sel.error,
                      "Last error's message contains TEXT, or matches /REGEX/");
  command->add_option("--kind", sel.kind, "Last error's kind (error, timeout, crash, ...)");
  command->add_option("--since", sel.since, "Died at or after: a duration back (10m) or RFC 3339");
  command->add_option("--until", sel.until, "Died at or before: a duration back or RFC 3339");
  command->add_option("--max", sel.max, "Stop after this many selected letters");
  command->add_flag("--not-replayed", sel.not_replayed, "Only letters never replayed");
}

void add_dlq(CLI::App& app, CliState& s) {
  auto* dlq = app.add_subcommand("dlq", "Inspect and replay a stage's dead letters");
  dlq->require_subcommand(1);
  auto* list = dlq->add_subcommand("list", "Print the selected dead letters");
  add_dlq_selection(list, s.dlq);
  list->add_flag("--json", s.dlq.json, "JSON lines with the whole letter");
  list->callback([&s] { s.action = [&s] { return dlq_list_command(s.dlq); }; });
  auto* replay =
      dlq->add_subcommand("replay", "Send the selected dead letters back to their stage");
  add_dlq_selection(replay, s.dlq);
  replay->add_option("--rate", s.dlq.rate, "At most this many letters a second (N/s)");
  replay->add_flag("--dry-run", s.dlq.dry_run, "Print what would be sent; send nothing");
  replay->callback([&s] { s.action = [&s] { return dlq_replay_command(s.dlq); }; });
}

void add_verify(CLI::App& app, CliState& s) {
  auto* verify = app.add_subcommand(
      "verify", "Lost, duplicated and unexpected jobs in done and the DLQs; open transactions");
  add_spec_option(verify, s.verify.spec_path);
  verify->add_option("--jobs", s.verify.jobs_path, "The submitted job ids, one a line")
      ->required();
  verify->add_flag("--json", s.verify.json, "One JSON object");
  verify->add_option("--timeout", s.verify_timeout,
                     "How long an open transaction may take to end (default 10s)")
      ->check(DurationValidator());
  verify->callback([&s] {
    if (!s.verify_timeout.empty()) {
      s.verify.timeout = topics::parse_duration(s.verify_timeout).value();
    }
    s.action = [&s] { return verify_command(s.verify); };
  });
}

// `state get` and `state dump` share the spec and the stage.
void add_state_scope(CLI::App* command, StateOptions& state) {
  add_spec_option(command, state.spec_path);
  command->add_option("--stage", state.stage, "Whose state: this stage's (state: true)")
      ->required()
      ->check(kStageName);
}

void add_state_get(CLI::App* state, CliState& s) {
  auto* get = state->add_subcommand("get", "Print one key's state value");
  add_state_scope(get, s.state);
  get->add_option("key", s.state.key, "The task key")->required();
  get->add_option("--name", s.state.name, "A named value of the key (default: its own state)");
  get->add_flag("--json", s.state.json,
                "One JSON object {key, name, partition, offset, value} instead of the value");
  get->footer("Exit 0 when the key has the state, 1 when it has none (or on a failure), "
              "2 on bad usage, e.g. a stage without `state: true`.");
  get->callback([&s] { s.action = [&s] { return state_get_command(s.state); }; });
}

void add_state_dump(CLI::App* state, CliState& s) {
  auto* dump = state->add_subcommand("dump", "Print every live state entry as JSON lines");
  add_state_scope(dump, s.state);
  dump->add_option("--partition", s.state.partition, "Only this changelog partition")
      ->check(CLI::NonNegativeNumber);
  dump->footer("One line per entry, by partition then key: {partition, scope (key or "
               "partition), key, name, value}; value is JSON when it parses as JSON, else a "
               "string, or base64 with \"encoding\": \"base64\" for bytes that are not UTF-8.");
  dump->callback([&s] { s.action = [&s] { return state_dump_command(s.state); }; });
}

void add_state(CLI::App& app, CliState& s) {
  auto* state = app.add_subcommand(
      "state", "Read a stateful stage's state from its changelog (no worker needed)");
  state->require_subcommand(1);
  add_state_get(state, s);
  add_state_dump(state, s);
}

void add_demo(CLI::App& app, CliState& s) {
  auto* demo = app.add_subcommand("demo", "Run a sample pipeline on the embedded broker");
  demo->add_option("--jobs", s.demo.jobs, "How many jobs to submit")->check(CLI::Range(1, 20000));
  demo->callback([&s] { s.action = [&s] { return demo_command(s.demo); }; });
}

// The first word that is not a command where one is expected ("sluice stauts",
// "sluice topics aply"), as "unknown command 'topics aply' (did you mean
// 'apply'?)"; "" when every command word is known. Checked before CLI11
// parses, which would say only "A subcommand is required".
std::string unknown_command(CLI::App& app, int argc, char** argv) {
  CLI::App* current = &app;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    auto commands = current->get_subcommands([](CLI::App*) { return true; });
    if (commands.empty()) return "";
    if (word.starts_with("-")) continue;  // the top level and `topics` take no values
    path += (path.empty() ? "" : " ") + word;
    auto named = std::find_if(commands.begin(), commands.end(),
                              [&](CLI::App* c) { return c->get_name() == word; });
    if (named != commands.end()) {
      current = *named;
      continue;
    }
    std::vector<std::string_view> names;
    for (CLI::App* c : commands) names.push_back(c->get_name());
    return "unknown command '" + path + "'" + topics::did_you_mean(word, names);
  }
  return "";
}

// CLI11's message in one line of ours; its "--key-field: 1 required TEXT
// missing" said plainly.
std::string parse_error_text(const CLI::ParseError& e) {
  std::string what = e.what();
  size_t colon = what.find(": ");
  if (what.ends_with(" missing") && colon != std::string::npos) {
    what = what.substr(0, colon) + " needs a value";
  }
  return what + " (see --help)";
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"Sluice: a durable, queue-based pipeline engine on Kafka", "sluice"};
  // Sluice's version and the linked librdkafka's, so a user can tell which client runs.
  app.set_version_flag("--version", std::string("sluice ") + version() + " (librdkafka " +
                                        kafka_client_version() + ")");
  app.require_subcommand(1);
  CliState state;
  add_validate_and_topics(app, state);
  add_run(app, state);
  add_submit(app, state);
  add_status(app, state);
  add_serve(app, state);
  add_up_and_scale(app, state);
  add_k8s(app, state);
  add_exporter(app, state);
  add_tail(app, state);
  add_dlq(app, state);
  add_verify(app, state);
  add_state(app, state);
  add_demo(app, state);
  if (std::string unknown = unknown_command(app, argc, argv); !unknown.empty()) {
    return report(usage_error(unknown));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return report(usage_error(parse_error_text(e)));  // CLI11's exit() prints two lines
  }
  // Workers and the supervisor log their progress; the other commands only warnings.
  configure_logging(state.run.stage.empty() && state.up.spec_path.empty() ? "warn" : "info",
                    state.log_format);
  return state.action();
}

}  // namespace sluice::ops
