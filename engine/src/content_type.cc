// The content-type test shared by stages (exec) and tools (tail).
#include "sluice/stage.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace sluice {

bool is_json_content_type(std::string_view content_type) {
  if (content_type == kJsonContentType) return true;  // the common case, per task
  std::string type(content_type.substr(0, content_type.find(';')));
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  type.erase(
      std::remove_if(type.begin(), type.end(), [](unsigned char c) { return std::isspace(c); }),
      type.end());
  if (type == "application/json") return true;
  return type.size() > 5 && type.compare(type.size() - 5, 5, "+json") == 0;
}

}  // namespace sluice
