#include "sluice/status.h"

#include <cstdio>
#include <cstdlib>

namespace sluice {

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kTransient: return "transient";
    case StatusCode::kInvalidInput: return "invalid input";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kFatal: return "fatal";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kUsage: return "usage";
    case StatusCode::kBusy: return "busy";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return std::string(status_code_name(code_)) + ": " + message_;
}

void check_failed(const char* file, int line, const char* cond,
                  const std::string& msg) {
  std::fprintf(stderr, "sluice: invariant violated at %s:%d: %s (%s)\n", file,
               line, cond, msg.c_str());
  std::abort();
}

}  // namespace sluice
