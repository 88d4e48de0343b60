#include "done_offsets.h"

#include <charconv>

namespace sluice::engine {
namespace {

constexpr std::string_view kPrefix = "sluice1:";
constexpr std::string_view kCircuit = ";circuit_until=";

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

std::string encode_done_offsets(int64_t next_offset, const std::vector<OffsetRange>& done,
                                size_t max_bytes, int64_t circuit_until_unix_ms) {
  std::string out(kPrefix);
  std::string circuit;
  if (circuit_until_unix_ms > 0) circuit = std::string(kCircuit) + std::to_string(circuit_until_unix_ms);
  for (const OffsetRange& range : done) {
    if (range.first < next_offset || range.last < range.first) continue;
    std::string text = range_text(range.first - next_offset, range.last - next_offset);
    if (out.size() + text.size() + 1 + circuit.size() > max_bytes) break;  // the rest is rerun
    if (out.size() > kPrefix.size()) out += ',';
    out += text;
  }
  if (out.size() == kPrefix.size() && circuit.empty()) return std::string();
  return out + circuit;
}

int64_t decode_circuit_until(std::string_view metadata) {
  size_t at = metadata.find(kCircuit);
  if (metadata.substr(0, kPrefix.size()) != kPrefix || at == std::string_view::npos) return 0;
  int64_t until = 0;
  return parse_number(metadata.substr(at + kCircuit.size()), &until) ? until : 0;
}

std::vector<OffsetRange> decode_done_offsets(int64_t next_offset, std::string_view metadata) {
  std::vector<OffsetRange> offsets;
  if (metadata.substr(0, kPrefix.size()) != kPrefix) return offsets;
  metadata.remove_prefix(kPrefix.size());
  metadata = metadata.substr(0, metadata.find(';'));  // the circuit's part, if any
  while (!metadata.empty()) {
    size_t comma = metadata.find(',');
    std::string_view item = metadata.substr(0, comma);
    metadata = comma == std::string_view::npos ? std::string_view() : metadata.substr(comma + 1);
    size_t dash = item.find('-');
    int64_t first = 0, last = 0;
    bool ok = parse_number(item.substr(0, dash), &first) &&
              (dash == std::string_view::npos ? (last = first, true)
                                              : parse_number(item.substr(dash + 1), &last));
    if (!ok || last < first || (!offsets.empty() && next_offset + first <= offsets.back().last)) {
      return {};  // not something we wrote: trust none of it
    }
    offsets.push_back({next_offset + first, next_offset + last});
  }
  return offsets;
}

}  // namespace sluice::engine
