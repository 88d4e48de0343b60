#include "stage_reader.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <vector>

#include "builtin_fields.h"
#include "settings_reader.h"
#include "sluice/topics/names.h"
#include "sluice/topics/spec_fields.h"

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
                                     {"http", StageKind::kHttp}};

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
  Result<size_t> i = read_choice(item.entry(*e), kKindNames);
  if (!i.is_ok()) return i.status();
  return kKinds[*i];
}

Status read_command(const Field& f, StageSpec& s) {
  Result<std::vector<std::string>> argv = read_string_list(f);
  if (!argv.is_ok()) return argv.status();
  if (argv->empty()) return f.error("must list the program and its arguments");
  s.command = std::move(argv).value();
  return Status::ok();
}

Status read_url(const Field& f, HttpSpec& http) {
  Result<std::string> url = read_string(f);
  if (!url.is_ok()) return url.status();
  bool scheme = url->starts_with("http://") || url->starts_with("https://");
  if (!scheme) return f.error("must start with http:// or https://, got '" + *url + "'");
  http.url = std::move(url).value();
  return Status::ok();
}

constexpr std::string_view kMethods[] = {"POST", "PUT", "PATCH"};

// RFC 9110's token: what a header's name may be made of.
bool is_header_name(std::string_view name) {
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kSymbols.find(c) != kSymbols.npos;
  });
}

// Values after ${VAR} substitution: an API key stays in the environment.
Status read_headers(const Field& f, HttpSpec& http) {
  Status st = expect_map(f);
  for (size_t i = 0; st.is_ok() && i < f.node->entries.size(); ++i) {
    const YamlEntry& e = f.node->entries[i];
    Field entry = f.entry(e);
    if (!is_header_name(e.key)) {
      return entry.error("not a header name (letters, digits and !#$%&'*+-.^_`|~)");
    }
    Result<std::string> value = read_expanded(entry);
    if (!value.is_ok()) return value.status();
    if (value->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return entry.error("a header value must not hold CR, LF or NUL");
    }
    http.headers[e.key] = std::move(value).value();
  }
  return st;
}

Status read_http(const Field& f, HttpSpec& http) {
  Status s = check_map(f, spec_fields(SpecSection::kHttp));
  if (!s.is_ok()) return s;
  const YamlEntry* url = f.find("url");
  if (url == nullptr) return f.missing("url", "http stages send each task to one");
  s = read_url(f.entry(*url), http);
  if (const YamlEntry* e = f.find("method"); s.is_ok() && e != nullptr) {
    Result<size_t> method = read_choice(f.entry(*e), kMethods);
    if (method.is_ok()) http.method = std::string(kMethods[*method]);
    s = method.status();
  }
  if (const YamlEntry* e = f.find("headers"); s.is_ok() && e != nullptr) {
    s = read_headers(f.entry(*e), http);
  }
  return s;
}

Status read_kind_field(const Field& f, const KindField& k, StageSpec& s) {
  if (s.kind != k.kind) {
    return f.error("not allowed for kind " + kind_name(s.kind) + " (only " +
                   kind_name(k.kind) + " stages take it)");
  }
  if (k.kind == StageKind::kExec) return read_command(f, s);
  if (k.kind == StageKind::kHttp) return read_http(f, s.http);
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
    } else if (is_builtin_field(e.key)) {
      s = read_builtin_field(item.entry(e), e.key, out.spec);
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
  if (s.is_ok()) s = check_builtin_fields(item, out.spec);
  if (!s.is_ok()) return s;
  return out;
}

}  // namespace sluice::topics
