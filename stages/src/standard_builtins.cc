#include "builtin_stages.h"

namespace sluice::stages {

std::vector<std::pair<std::string, StageFactory>> standard_builtins() {
  return {
      {"passthrough", make_passthrough_stage},
      {"tag", make_tag_stage},
      {"uppercase", make_uppercase_stage},
      {"word-count", make_word_count_stage},
      {"count", make_count_stage},
      {"dedupe", make_dedupe_stage},
      {"gather", make_gather_stage},
  };
}

}  // namespace sluice::stages
