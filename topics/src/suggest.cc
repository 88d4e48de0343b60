#include "sluice/topics/suggest.h"

#include <algorithm>
#include <vector>

namespace sluice::topics {
namespace {

// Levenshtein distance, one row at a time: names here are a few dozen bytes.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
    }
  }
  return row[b.size()];
}

}  // namespace

std::string did_you_mean(std::string_view word,
                         std::span<const std::string_view> candidates) {
  // A third of the word's length, at least 1 and at most 3: close enough to
  // be a typo, far enough that short names don't suggest each other.
  size_t best = std::clamp<size_t>(word.size() / 3, 1, 3) + 1;
  std::string_view match;
  for (std::string_view candidate : candidates) {
    size_t d = edit_distance(word, candidate);
    if (d < best) {
      best = d;
      match = candidate;
    }
  }
  if (match.empty()) return "";
  return " (did you mean '" + std::string(match) + "'?)";
}

}  // namespace sluice::topics
