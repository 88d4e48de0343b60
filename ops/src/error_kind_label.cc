#include "error_kind_label.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace sluice::ops {
namespace {

constexpr std::array<std::string_view, 14> kKnownKinds = {
    "error",     "timeout",   "crash",          "exception",  "undecodable",
    "deadline",  "cancelled", "max_visits",     "approval_timeout",
    "protocol",  "too_large", "invalid_record", "bad_output", "invalid_input"};
constexpr std::string_view kOther = "other";
constexpr size_t kMaxLength = 32;

bool is_known(std::string_view kind) {
  return kind == kOther ||
         std::find(kKnownKinds.begin(), kKnownKinds.end(), kind) != kKnownKinds.end();
}

bool is_http_status(std::string_view kind) {
  return kind.size() == 8 && kind.substr(0, 5) == "http_" &&
         std::all_of(kind.begin() + 5, kind.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string sanitize_error_kind(std::string_view kind) {
  if (kind.empty()) return std::string(kOther);
  if (is_known(kind) || is_http_status(kind)) return std::string(kind);
  std::string label(kind.substr(0, kMaxLength));
  for (char& c : label) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) c = '_';
  }
  return label;
}

std::string ErrorKindLabels::label(std::string_view kind) {
  std::string label = sanitize_error_kind(kind);
  if (is_known(label) || admitted_.count(label) != 0) return label;
  // The known kinds and "other" keep their places: the rest share what is left.
  if (admitted_.size() + kKnownKinds.size() + 1 >= kMaxKinds) return std::string(kOther);
  admitted_.insert(label);
  return label;
}

}  // namespace sluice::ops
