#include "sluice/stages/registry.h"

#include <map>
#include <mutex>
#include <string_view>

#include "builtin_stages.h"
#include "http_stage.h"
#include "sluice/stages/exec.h"
#include "sluice/topics/suggest.h"

namespace sluice::stages {

namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, StageFactory> factories;  // sorted: messages list names in order
};

// A function-local static: built on first use, so registration never
// depends on the order in which translation units are initialised.
Registry& registry() {
  static Registry instance;
  return instance;
}

// Sluice's own built-ins go in before any lookup or user registration, once,
// so that a user's name clash is always reported and no caller depends on
// static initialisation order.
void register_standard_builtins() {
  static std::once_flag once;
  std::call_once(once, [] {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    for (auto& [name, factory] : standard_builtins()) r.factories.emplace(name, std::move(factory));
  });
}

// "unknown builtin 'wordcount' (did you mean 'word-count'?)", or with the
// list of known ones when none is close.
std::string unknown_builtin(const std::string& name) {
  std::vector<std::string> known = builtin_names();
  std::vector<std::string_view> candidates(known.begin(), known.end());
  std::string hint = topics::did_you_mean(name, candidates);
  if (hint.empty()) {
    for (const auto& k : known) hint += (hint.empty() ? " (known: " : ", ") + k;
    hint += ")";
  }
  return "unknown builtin '" + name + "'" + hint;
}

bool is_registered(const std::string& name) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  return r.factories.contains(name);
}

Result<std::unique_ptr<Stage>> make_builtin(const topics::StageSpec& spec) {
  StageFactory factory;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    auto it = r.factories.find(spec.builtin);
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) return usage_error("stage " + spec.name + ": " + unknown_builtin(spec.builtin));
  std::unique_ptr<Stage> stage = factory();
  if (!stage)
    return fatal_error("stage " + spec.name + ": builtin " + spec.builtin + " made no stage");
  return stage;
}

}  // namespace

Status register_builtin(const std::string& name, StageFactory factory) {
  if (name.empty() || !factory) return usage_error("register_builtin: empty name or factory");
  register_standard_builtins();
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  if (!r.factories.emplace(name, std::move(factory)).second) {
    return usage_error("register_builtin: \"" + name + "\" is already registered");
  }
  return Status::ok();
}

std::vector<std::string> builtin_names() {
  register_standard_builtins();
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> names;
  for (const auto& entry : r.factories) names.push_back(entry.first);
  return names;
}

Status check_builtins(const topics::PipelineSpec& spec) {
  register_standard_builtins();
  for (const topics::StageSpec& stage : spec.stages) {
    if (stage.kind == topics::StageKind::kBuiltin && !is_registered(stage.builtin)) {
      return topics::stage_field_error(spec, stage, "builtin", unknown_builtin(stage.builtin));
    }
  }
  return Status::ok();
}

Status check_exec_programs(const topics::PipelineSpec& spec) {
  for (const topics::StageSpec& stage : spec.stages) {
    if (stage.kind != topics::StageKind::kExec) continue;
    auto program = find_stage_program(stage);
    if (!program.is_ok()) {
      return topics::stage_field_error(spec, stage, "command", program.status().message());
    }
  }
  return Status::ok();
}

Result<std::unique_ptr<Stage>> make_stage(const topics::StageSpec& spec) {
  register_standard_builtins();
  switch (spec.kind) {
    case topics::StageKind::kBuiltin:
      return make_builtin(spec);
    case topics::StageKind::kExec:
      if (spec.command.empty())
        return usage_error("stage " + spec.name + ": kind exec needs a command");
      return make_exec_stage(spec);
    case topics::StageKind::kHttp:
      if (spec.http.url.empty()) return usage_error("stage " + spec.name + ": kind http needs a url");
      return make_http_stage(spec);
  }
  return usage_error("stage " + spec.name + ": unknown kind");
}

}  // namespace sluice::stages
