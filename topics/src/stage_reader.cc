#include "stage_reader.h"

#include <string_view>
#include <vector>

#include "settings_reader.h"
#include "sluice/topics/names.h"
#include "sluice/topics/spec_fields.h"
#include "sluice/topics/suggest.h"

namespace sluice::topics {
namespace {

constexpr std::string_view kKindNames[] = {"exec", "http", "builtin"};
constexpr StageKind kKinds[] = {StageKind::kExec, StageKind::kHttp, StageKind::kBuiltin};

// The field each kind requires; no other kind may have it.
struct KindField {
  std::string_view key;
  StageKind kind;
};
constexpr KindField kKindFields[] = {{"command", StageKind::kExec},
                                     {"builtin", StageKind::kBuiltin},
                                     {"url", StageKind::kHttp}};

std::string kind_name(StageKind kind) {
  return std::string(kKindNames[static_cast<int>(kind)]);
}

std::vector<std::string_view> stage_keys() {
  std::span<const std::string_view> own = spec_fields(SpecSection::kStage);
  std::vector<std::string_view> keys(own.begin(), own.end());
  for (std::string_view k : setting_keys()) keys.push_back(k);
  return keys;
}

const KindField* find_kind_field(std::string_view key) {
  for (const KindField& k : kKindFields) {
    if (k.key == key) return &k;
  }
  return nullptr;
}

Result<std::string> read_required_name(const Field& item, int& name_line) {
  const YamlEntry* e = item.find("name");
  if (e == nullptr) return item.missing("name", "every stage needs a name");
  name_line = e->line;
  Field f = item.entry(*e);
  Result<std::string> name = read_name(f);
  if (name.is_ok() && is_reserved_stage_name(*name)) {
    return f.error("'" + *name + "' is reserved: its topic would be the pipeline's own ." +
                   *name + " topic");
  }
  return name;
}

Result<StageKind> read_kind(const Field& item) {
  const YamlEntry* e = item.find("kind");
  if (e == nullptr) return item.missing("kind", "every stage needs one of exec, http, builtin");
  Field f = item.entry(*e);
  Result<std::string> text = read_string(f);
  if (!text.is_ok()) return text.status();
  for (size_t i = 0; i < std::size(kKinds); ++i) {
    if (*text == kKindNames[i]) return kKinds[i];
  }
  return f.error("expected exec, http or builtin, got '" + *text + "'" +
                 did_you_mean(*text, kKindNames));
}

Status read_command(const Field& f, StageSpec& s) {
  Result<std::vector<std::string>> argv = read_string_list(f);
  if (!argv.is_ok()) return argv.status();
  if (argv->empty()) return f.error("must list the program and its arguments");
  s.command = std::move(argv).value();
  return Status::ok();
}

Status read_url(const Field& f, StageSpec& s) {
  Result<std::string> url = read_string(f);
  if (!url.is_ok()) return url.status();
  bool http = url->rfind("http://", 0) == 0 || url->rfind("https://", 0) == 0;
  if (!http) return f.error("must start with http:// or https://, got '" + *url + "'");
  s.http.url = std::move(url).value();
  return Status::ok();
}

Status read_kind_field(const Field& f, const KindField& k, StageSpec& s) {
  if (s.kind != k.kind) {
    return f.error("not allowed for kind " + kind_name(s.kind) + " (only " +
                   kind_name(k.kind) + " stages take it)");
  }
  if (k.kind == StageKind::kExec) return read_command(f, s);
  if (k.kind == StageKind::kHttp) return read_url(f, s);
  Result<std::string> name = read_string(f);
  if (name.is_ok()) s.builtin = std::move(name).value();
  return name.status();
}

Status read_next(const Field& f, ReadStage& out) {
  Result<std::vector<std::string>> next = read_string_list(f);
  if (!next.is_ok()) return next.status();
  out.spec.next = std::move(next).value();
  for (const YamlNode& item : f.node->items) out.source.next_lines.push_back(item.line);
  return Status::ok();
}

Status read_entries(const Field& item, ReadStage& out, SettingsBlame& blame) {
  Status s;
  for (const YamlEntry& e : item.node->entries) {
    if (e.key == "name" || e.key == "kind") continue;
    if (const KindField* k = find_kind_field(e.key)) {
      s = read_kind_field(item.entry(e), *k, out.spec);
    } else if (e.key == "next") {
      s = read_next(item.entry(e), out);
    } else {
      s = read_setting(item, e, out.spec, blame);
    }
    if (!s.is_ok()) return s;
  }
  return s;
}

Status check_kind_field_present(const Field& item, const StageSpec& s) {
  for (const KindField& k : kKindFields) {
    if (k.kind == s.kind && item.find(k.key) == nullptr) {
      return item.missing(k.key, kind_name(k.kind) + " stages need one");
    }
  }
  return Status::ok();
}

}  // namespace

Result<ReadStage> read_stage(const Field& item, const StageSpec& defaults) {
  std::vector<std::string_view> keys = stage_keys();
  Status s = check_map(item, keys);
  if (!s.is_ok()) return s;
  ReadStage out{defaults, StageSource{item.line, item.line, {}}};
  Result<std::string> name = read_required_name(item, out.source.name_line);
  if (!name.is_ok()) return name.status();
  out.spec.name = std::move(name).value();
  Result<StageKind> kind = read_kind(item);
  if (!kind.is_ok()) return kind.status();
  out.spec.kind = *kind;
  SettingsBlame blame;
  s = read_entries(item, out, blame);
  if (s.is_ok()) s = check_kind_field_present(item, out.spec);
  if (s.is_ok()) s = check_settings(out.spec, blame);
  if (!s.is_ok()) return s;
  return out;
}

}  // namespace sluice::topics
