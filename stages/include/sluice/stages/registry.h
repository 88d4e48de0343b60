// The stage registry: turns a StageSpec into a Stage.
//
// kind builtin looks the name up among registered built-ins (Sluice's own,
// registered lazily on first use, plus any a user's binary registers with
// register_builtin() before it starts workers); kind exec builds an exec
// stage (exec.h); kind http an http stage (stages/src/http_stage.h: each task
// POSTed to its url through libcurl). make_stage() only
// constructs: the engine then calls init(), process()..., close().
// All functions are thread-safe. The registry owns factories, not stages.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sluice/stage.h"
#include "sluice/status.h"
#include "sluice/topics/spec.h"

namespace sluice::stages {

// Makes a fresh stage per call (one per worker); must not return nullptr.
using StageFactory = std::function<std::unique_ptr<Stage>()>;

// kUsage if the name is empty or already taken (Sluice's own included).
[[nodiscard]] Status register_builtin(const std::string& name, StageFactory factory);

// Names of all registered built-ins, sorted.
std::vector<std::string> builtin_names();

// kUsage "FILE:LINE: stages[I].builtin: unknown builtin 'x' (did you mean
// 'y'?)" for the first builtin stage of `spec` whose name is not registered:
// what `validate` and `run` check before anything starts.
[[nodiscard]] Status check_builtins(const topics::PipelineSpec& spec);
// Each exec stage's program can be found (find_stage_program): what `run`
// would otherwise learn only when its children fail to start.
[[nodiscard]] Status check_exec_programs(const topics::PipelineSpec& spec);

// kUsage, naming the stage, for an unknown built-in (with a did-you-mean, or
// the list of known ones), an exec stage without a command, an http stage
// without a url.
Result<std::unique_ptr<Stage>> make_stage(const topics::StageSpec& spec);

}  // namespace sluice::stages
