#include "sluice/topics/utf8.h"

#include <cstdint>
#include <cstring>

namespace sluice::topics {
namespace {

// The length of the valid sequence at p, or 0 if none starts there.
size_t sequence_at(const unsigned char* p, const unsigned char* end) {
  unsigned char c = *p;
  if (c < 0x80) return 1;
  size_t length;
  unsigned char low = 0x80, high = 0xbf;  // bounds of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    length = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    length = 3;
    if (c == 0xe0) low = 0xa0;   // overlong
    if (c == 0xed) high = 0x9f;  // surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    length = 4;
    if (c == 0xf0) low = 0x90;   // overlong
    if (c == 0xf4) high = 0x8f;  // above U+10FFFF
  } else {
    return 0;
  }
  if (static_cast<size_t>(end - p) < length || p[1] < low || p[1] > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if ((p[i] & 0xc0) != 0x80) return 0;
  }
  return length;
}

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

// Ids and names are nearly always ASCII, so that is checked first, eight
// bytes at a time.
bool valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* end = p + text.size();
  while (end - p >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    if (word & 0x8080808080808080ULL) break;
    p += 8;
  }
  while (p < end) {
    size_t length = sequence_at(p, end);
    if (length == 0) return false;
    p += length;
  }
  return true;
}

std::string to_valid_utf8(std::string_view text) {
  if (valid_utf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 8);
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* end = p + text.size();
  while (p < end) {
    size_t length = sequence_at(p, end);
    if (length == 0) {
      out += kReplacement;
      ++p;
    } else {
      out.append(reinterpret_cast<const char*>(p), length);
      p += length;
    }
  }
  return out;
}

std::string utf8_excerpt(std::string_view text, size_t max_bytes) {
  std::string valid = to_valid_utf8(text);
  if (valid.size() <= max_bytes) return valid;
  constexpr std::string_view kMore = "...";
  size_t cut = max_bytes > kMore.size() ? max_bytes - kMore.size() : 0;
  // Back up over continuation bytes: never half a character.
  while (cut > 0 && (static_cast<unsigned char>(valid[cut]) & 0xc0) == 0x80) --cut;
  valid.resize(cut);
  if (max_bytes >= kMore.size()) valid += kMore;
  return valid;
}

}  // namespace sluice::topics
