#include "builtin_fields.h"

#include <algorithm>
#include <string>

#include "sluice/topics/spec_fields.h"

namespace sluice::topics {
namespace {

Status read_dedupe(const Field& f, StageSpec& s) {
  Status st = check_map(f, spec_fields(SpecSection::kDedupe));
  if (!st.is_ok()) return st;
  const YamlEntry* window = f.find("window");
  if (window == nullptr) {
    return f.missing("window", "how long a job's identity is remembered, e.g. window: 10m");
  }
  Result<Millis> w = read_duration(f.entry(*window), Millis{1000});
  if (!w.is_ok()) return w.status();
  s.dedupe.window = *w;
  if (const YamlEntry* field = f.find("field")) {
    Result<std::string> name = read_string(f.entry(*field));
    if (!name.is_ok()) return name.status();
    s.dedupe.field = std::move(name).value();
  }
  return Status::ok();
}

Status read_gather(const Field& f, StageSpec& s) {
  Status st = check_map(f, spec_fields(SpecSection::kGather));
  if (!st.is_ok()) return st;
  const YamlEntry* timeout = f.find("timeout");
  if (timeout == nullptr) {
    return f.missing("timeout", "how long it waits for what it gathers, e.g. timeout: 30s");
  }
  Result<Millis> t = read_duration(f.entry(*timeout), Millis{1});
  if (t.is_ok()) s.gather.timeout = *t;
  return t.status();
}

// The map's key is also the name of the builtin it configures.
struct BuiltinField {
  std::string_view key;
  Status (*read)(const Field&, StageSpec&);
  std::string_view shape;      // for "missing": what the map looks like
  std::string_view state_use;  // why the builtin needs `state: true`
};

constexpr BuiltinField kBuiltinFields[] = {
    {"dedupe", read_dedupe, "dedupe: {window: DURATION}", "remembers the jobs it has seen"},
    {"gather", read_gather, "gather: {timeout: DURATION}", "keeps what it gathers"},
};

const BuiltinField* find(std::string_view key) {
  auto it = std::find_if(std::begin(kBuiltinFields), std::end(kBuiltinFields),
                         [&](const BuiltinField& b) { return b.key == key; });
  return it == std::end(kBuiltinFields) ? nullptr : it;
}

// "builtin: passthrough", "kind exec": what a stage runs, for messages.
std::string what_it_runs(const StageSpec& s) {
  switch (s.kind) {
    case StageKind::kBuiltin: return "builtin: " + s.builtin;
    case StageKind::kExec: return "kind exec";
    case StageKind::kHttp: return "kind http";
  }
  return "";
}

}  // namespace

bool is_builtin_field(std::string_view key) { return find(key) != nullptr; }

Status read_builtin_field(const Field& f, std::string_view key, StageSpec& s) {
  const BuiltinField* b = find(key);
  SLUICE_CHECK(b != nullptr, "not a builtin's field: " + std::string(key));
  return b->read(f, s);
}

Status check_builtin_fields(const Field& item, const StageSpec& s) {
  for (const BuiltinField& b : kBuiltinFields) {
    const std::string name(b.key);
    bool runs_it = s.kind == StageKind::kBuiltin && s.builtin == name;
    const YamlEntry* e = item.find(b.key);
    if (e == nullptr) {
      if (!runs_it) continue;
      return item.missing(name, "builtin " + name + " needs one: " + std::string(b.shape));
    }
    Field f = item.entry(*e);
    if (!runs_it) {
      return f.error("only for builtin: " + name + " (this stage is " + what_it_runs(s) + ")");
    }
    if (!s.state) {
      return f.error("builtin " + name + " " + std::string(b.state_use) +
                     " in the stage's state; set `state: true`");
    }
    // A part is done once kept: a timed-out set's dead letter and the removal
    // of its parts must commit together, which only a transaction does.
    if (name == "gather" && s.guarantee != Guarantee::kExactlyOnce) {
      return f.error("builtin gather needs guarantee: exactly_once (a timed-out set's dead "
                     "letter must commit with the removal of its parts)");
    }
  }
  return Status::ok();
}

}  // namespace sluice::topics
