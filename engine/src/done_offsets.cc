#include "done_offsets.h"

#include <charconv>

namespace sluice::engine {
namespace {

constexpr std::string_view kPrefix = "sluice1:";

std::string range_text(int64_t first, int64_t last) {
  std::string text = std::to_string(first);
  if (last != first) text += "-" + std::to_string(last);
  return text;
}

bool parse_number(std::string_view text, int64_t* out) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return error == std::errc() && end == text.data() + text.size() && *out >= 0;
}

}  // namespace

std::string encode_done_offsets(int64_t next_offset, const std::vector<int64_t>& done,
                                size_t max_bytes) {
  std::string out(kPrefix);
  for (size_t i = 0; i < done.size();) {
    size_t j = i;
    while (j + 1 < done.size() && done[j + 1] == done[j] + 1) ++j;
    std::string range = range_text(done[i] - next_offset, done[j] - next_offset);
    if (out.size() + range.size() + 1 > max_bytes) break;  // the rest is rerun
    if (out.size() > kPrefix.size()) out += ',';
    out += range;
    i = j + 1;
  }
  return out.size() > kPrefix.size() ? out : std::string();
}

std::vector<int64_t> decode_done_offsets(int64_t next_offset, std::string_view metadata) {
  std::vector<int64_t> offsets;
  if (metadata.substr(0, kPrefix.size()) != kPrefix) return offsets;
  metadata.remove_prefix(kPrefix.size());
  while (!metadata.empty()) {
    size_t comma = metadata.find(',');
    std::string_view item = metadata.substr(0, comma);
    metadata = comma == std::string_view::npos ? std::string_view() : metadata.substr(comma + 1);
    size_t dash = item.find('-');
    int64_t first = 0, last = 0;
    bool ok = parse_number(item.substr(0, dash), &first) &&
              (dash == std::string_view::npos ? (last = first, true)
                                              : parse_number(item.substr(dash + 1), &last));
    if (!ok || last < first || (!offsets.empty() && next_offset + first <= offsets.back())) {
      return {};  // not something we wrote: trust none of it
    }
    for (int64_t d = first; d <= last; ++d) offsets.push_back(next_offset + d);
  }
  return offsets;
}

}  // namespace sluice::engine
