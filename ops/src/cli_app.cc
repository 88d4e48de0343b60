// The command line: CLI11 definitions of every subcommand, mapped onto the
// option structs of commands.h. Bad usage exits 2, like a bad spec.
#include "sluice/ops/cli.h"

#include <CLI/CLI.hpp>

#include "cli_support.h"
#include "commands.h"
#include "sluice/ops/version.h"
#include "sluice/topics/spec.h"

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

void add_spec_option(CLI::App* command, std::string& path) {
  command->add_option("-f,--file", path, "Pipeline spec (YAML)")->required();
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"Sluice: a durable, queue-based pipeline engine on Kafka", "sluice"};
  app.set_version_flag("--version", version());
  app.require_subcommand(1);
  std::string spec;
  std::function<int()> action;

  auto* validate = app.add_subcommand("validate", "Check a spec; touches nothing");
  add_spec_option(validate, spec);
  validate->callback([&] { action = [&] { return validate_command(spec); }; });

  auto* topics_cmd = app.add_subcommand("topics", "Manage the pipeline's topics");
  topics_cmd->require_subcommand(1);
  auto* apply = topics_cmd->add_subcommand("apply", "Create missing topics; report differences");
  add_spec_option(apply, spec);
  apply->callback([&] { action = [&] { return topics_apply_command(spec); }; });

  RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "Run workers of one stage, or of all");
  add_spec_option(run_cmd, run.spec_path);
  run_cmd->add_option("--stage", run.stage, "Stage name, or all")->required();
  run_cmd->add_option("--metrics-addr", run.metrics_addr, "Serve /metrics on HOST:PORT");
  run_cmd->callback([&] { action = [&] { return run_command(run); }; });

  SubmitOptions submit;
  auto* submit_cmd = app.add_subcommand("submit", "Submit jobs; prints their ids");
  add_spec_option(submit_cmd, submit.spec_path);
  submit_cmd->add_option("--key", submit.key, "Key of the job (default: its id)");
  submit_cmd->add_option("--key-field", submit.key_field, "Key each job by this payload field");
  submit_cmd->add_option("job", submit.job, "A JSON job, or - for JSON lines on stdin")
      ->required();
  submit_cmd->callback([&] { action = [&] { return submit_command(submit); }; });

  StatusOptions status;
  auto* status_cmd = app.add_subcommand("status", "Workers and queue depth per stage");
  add_spec_option(status_cmd, status.spec_path);
  status_cmd->add_flag("--json", status.json, "One JSON object per refresh");
  status_cmd->add_flag("--watch", status.watch, "Refresh every 2 s until interrupted");
  status_cmd->callback([&] { action = [&] { return status_command(status); }; });

  TailOptions tail;
  std::string idle;
  auto* tail_cmd = app.add_subcommand("tail", "Print records of a topic as JSON lines");
  add_spec_option(tail_cmd, tail.spec_path);
  tail_cmd->add_option("--stage", tail.stage, "The input topic of this stage");
  tail_cmd->add_flag("--done", tail.done, "The pipeline's outputs (default)");
  tail_cmd->add_option("--dlq", tail.dlq_stage, "The dead letters of this stage");
  tail_cmd->add_flag("--from-beginning", tail.from_beginning, "Start at the oldest record");
  tail_cmd->add_option("--max", tail.max_records, "Stop after this many records");
  tail_cmd->add_option("--idle-timeout", idle, "Stop after this long without a record")
      ->check(DurationValidator());
  tail_cmd->callback([&] {
    if (!idle.empty()) tail.idle_timeout = topics::parse_duration(idle).value();
    action = [&] { return tail_command(tail); };
  });

  DemoOptions demo;
  auto* demo_cmd = app.add_subcommand("demo", "Run a sample pipeline on the embedded broker");
  demo_cmd->add_option("--jobs", demo.jobs, "How many jobs to submit")->check(CLI::Range(1, 20000));
  demo_cmd->callback([&] { action = [&] { return demo_command(demo); }; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  configure_logging(run.stage.empty() ? "warn" : "info");
  return action();
}

}  // namespace sluice::ops
