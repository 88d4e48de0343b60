#include "sluice/stages/registry.h"

#include <map>
#include <mutex>

#include "builtin_stages.h"
#include "sluice/stages/exec.h"

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

std::string known_builtins() {
  std::string list;
  for (const auto& name : builtin_names()) list += (list.empty() ? "" : ", ") + name;
  return list;
}

Result<std::unique_ptr<Stage>> make_builtin(const topics::StageSpec& spec) {
  StageFactory factory;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    auto it = r.factories.find(spec.builtin);
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) {
    return usage_error("stage " + spec.name + ": unknown builtin \"" + spec.builtin +
                       "\" (known: " + known_builtins() + ")");
  }
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
      return usage_error("stage " + spec.name + ": kind http is not implemented yet");
  }
  return usage_error("stage " + spec.name + ": unknown kind");
}

}  // namespace sluice::stages
