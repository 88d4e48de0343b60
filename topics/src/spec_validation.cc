#include "spec_validation.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "spec_field.h"

namespace sluice::topics {
namespace {

using StageIndex = std::unordered_map<std::string, size_t>;

std::string stage_field(size_t i, const char* field) {
  return "stages[" + std::to_string(i) + "]" + (*field ? "." : "") + field;
}

Status check_unique_names(const PipelineSpec& spec, const SpecSource& src, StageIndex& index) {
  for (size_t i = 0; i < spec.stages.size(); ++i) {
    auto [it, fresh] = index.emplace(spec.stages[i].name, i);
    if (!fresh) {
      return spec_error(src.file, src.stages[i].name_line, stage_field(i, "name"),
                        "duplicate stage name " + quoted(spec.stages[i].name) +
                            " (also stages[" + std::to_string(it->second) + "])");
    }
  }
  return Status::ok();
}

std::string why_bad_next(const PipelineSpec& spec, size_t i, size_t j, const StageIndex& index) {
  const std::vector<std::string>& next = spec.stages[i].next;
  const std::string& target = next[j];
  if (!index.contains(target)) return quoted(target) + " names no stage" + spec.stage_hint(target);
  if (target == spec.stages[i].name) return quoted(target) + " names the stage itself";
  if (std::find(next.begin(), next.begin() + j, target) != next.begin() + j) {
    return quoted(target) + " is listed twice";
  }
  return "";
}

Status check_next_entries(const PipelineSpec& spec, const SpecSource& src,
                          const StageIndex& index) {
  for (size_t i = 0; i < spec.stages.size(); ++i) {
    for (size_t j = 0; j < spec.stages[i].next.size(); ++j) {
      std::string why = why_bad_next(spec, i, j, index);
      if (!why.empty()) {
        return spec_error(src.file, src.stages[i].next_lines[j], stage_field(i, "next"), why);
      }
    }
  }
  return Status::ok();
}

// Depth-first search in file order; an edge to a stage still on the stack
// closes a cycle, and that edge's `next` entry is where the error points.
class CycleFinder {
 public:
  CycleFinder(const PipelineSpec& spec, const SpecSource& src, const StageIndex& index)
      : spec_(spec), src_(src), index_(index), color_(spec.stages.size(), kUnseen) {}

  Status run() {
    for (size_t i = 0; i < spec_.stages.size(); ++i) {
      if (color_[i] != kUnseen) continue;
      Status s = visit(i);
      if (!s.is_ok()) return s;
    }
    return Status::ok();
  }

 private:
  enum Color { kUnseen, kOnStack, kDone };

  Status visit(size_t i) {
    color_[i] = kOnStack;
    stack_.push_back(i);
    const std::vector<std::string>& next = spec_.stages[i].next;
    for (size_t j = 0; j < next.size(); ++j) {
      size_t target = index_.at(next[j]);
      if (color_[target] == kOnStack) return cycle_error(i, j, target);
      Status s = color_[target] == kUnseen ? visit(target) : Status::ok();
      if (!s.is_ok()) return s;
    }
    stack_.pop_back();
    color_[i] = kDone;
    return Status::ok();
  }

  Status cycle_error(size_t from, size_t next_pos, size_t target) const {
    auto start = std::find(stack_.begin(), stack_.end(), target);
    std::string path;
    for (auto it = start; it != stack_.end(); ++it) path += spec_.stages[*it].name + " -> ";
    path += spec_.stages[target].name;
    return spec_error(src_.file, src_.stages[from].next_lines[next_pos],
                      stage_field(from, "next"), "cycle: " + path);
  }

  const PipelineSpec& spec_;
  const SpecSource& src_;
  const StageIndex& index_;
  std::vector<Color> color_;
  std::vector<size_t> stack_;
};

// Runs after the cycle check: an acyclic graph always has an entry stage,
// so only "more than one" can fail here.
Status check_single_entry(const PipelineSpec& spec, const SpecSource& src) {
  std::unordered_set<std::string_view> named;
  for (const StageSpec& s : spec.stages) named.insert(s.next.begin(), s.next.end());
  std::vector<size_t> entries;
  for (size_t i = 0; i < spec.stages.size(); ++i) {
    if (!named.contains(spec.stages[i].name)) entries.push_back(i);
  }
  SLUICE_CHECK(!entries.empty(), "an acyclic pipeline has an entry stage");
  if (entries.size() == 1) return Status::ok();
  std::string list;
  for (size_t i : entries) list += (list.empty() ? "" : ", ") + quoted(spec.stages[i].name);
  return spec_error(src.file, src.stages[entries[1]].line, stage_field(entries[1], ""),
                    "more than one entry stage: " + list +
                        " (no stage names them in next); exactly one may take the intake");
}

}  // namespace

Status validate_spec(const PipelineSpec& spec, const SpecSource& source) {
  StageIndex index;
  Status s = check_unique_names(spec, source, index);
  if (s.is_ok()) s = check_next_entries(spec, source, index);
  if (s.is_ok()) s = CycleFinder(spec, source, index).run();
  if (s.is_ok()) s = check_single_entry(spec, source);
  return s;
}

}  // namespace sluice::topics
