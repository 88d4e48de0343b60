// parse_spec and load_spec_file: text -> YAML tree -> PipelineSpec ->
// graph checks. Each step refuses with a kUsage "FILE:LINE: FIELD: what".
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "sluice/topics/spec.h"
#include "spec_reader.h"
#include "spec_validation.h"
#include "yaml_tree.h"

namespace sluice::topics {
namespace {

// A pipeline spec is a few kilobytes; anything this large is the wrong file.
constexpr size_t kMaxSpecBytes = 16 << 20;

Status cannot_read(const std::string& path, int error) {
  return usage_error("cannot read spec " + path + ": " + std::strerror(error));
}

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// stdio rather than iostreams: errno after a failed fopen/fread says why.
Result<std::string> read_file(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return cannot_read(path, errno);
  std::string text;
  char buffer[8192];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    text.append(buffer, n);
    if (text.size() > kMaxSpecBytes) return cannot_read(path, EFBIG);
  }
  if (std::ferror(file.get())) return cannot_read(path, errno);
  return text;
}

}  // namespace

Result<PipelineSpec> parse_spec(const std::string& yaml_text,
                                const std::string& file_name) {
  Result<YamlNode> root = parse_yaml(yaml_text, file_name);
  if (!root.is_ok()) return root.status();
  Result<ReadSpec> read = read_spec(*root, file_name);
  if (!read.is_ok()) return read.status();
  Status valid = validate_spec(read->spec, read->source);
  if (!valid.is_ok()) return valid;
  return std::move(read).value().spec;
}

Result<PipelineSpec> load_spec_file(const std::string& path) {
  Result<std::string> text = read_file(path);
  if (!text.is_ok()) return text.status();
  Result<PipelineSpec> spec = parse_spec(*text, path);
  if (!spec.is_ok()) return spec;
  std::error_code error;
  std::filesystem::path dir = std::filesystem::absolute(path, error).parent_path();
  if (error) return usage_error("cannot resolve the directory of spec " + path + ": " + error.message());
  for (StageSpec& stage : spec->stages) stage.workdir = dir.lexically_normal().string();
  return spec;
}

}  // namespace sluice::topics
