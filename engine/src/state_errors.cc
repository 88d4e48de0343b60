#include "state_errors.h"

#include <string>

namespace sluice::engine {

Status state_status(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::ok();
  std::string message = "state store: " + std::string(what) + ": " + status.ToString();
  if (status.IsNotFound()) return not_found(std::move(message));
  if (status.IsBusy() || status.IsTimedOut() || status.IsTryAgain() || status.IsNoSpace()) {
    return transient_error(std::move(message));
  }
  return fatal_error(std::move(message));
}

}  // namespace sluice::engine
