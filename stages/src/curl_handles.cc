#include "curl_handles.h"

namespace sluice::stages {

bool curl_ready() {
  static const bool ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return ready;
}

}  // namespace sluice::stages
