// The version `sluice --version` prints.
#pragma once

namespace sluice::ops {
const char* version();
}  // namespace sluice::ops
