#include "sluice/ops/version.h"

namespace sluice::ops {
const char* version() { return "0.1.0"; }
}  // namespace sluice::ops
