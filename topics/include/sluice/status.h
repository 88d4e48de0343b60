// Status and Result<T>: how every fallible Sluice call reports failure.
//
// The code tells the caller what to do next, not just what went wrong:
// retry later (kTransient), dead-letter the input now (kInvalidInput),
// unwind quietly (kCancelled), or stop the process and let the supervisor
// restart it (kFatal). Messages say what failed and where, in one line.
// Both types are cheap to move and safe to pass between threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace sluice {

enum class StatusCode {
  kOk = 0,
  kTransient,     // retry with backoff: broker busy, child restarting, timeout
  kInvalidInput,  // this input can never succeed: dead-letter it now
  kCancelled,     // shutting down: stop without side effects
  kFatal,         // the process cannot go on; the supervisor restarts it
  kNotFound,      // a named thing (topic, stage, file) does not exist
  kUsage,         // bad spec or bad arguments: the user must fix them (exit 2)
  kBusy,          // admission refused: the entry stage is full (exit 3)
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status transient_error(std::string m) { return {StatusCode::kTransient, std::move(m)}; }
inline Status invalid_input(std::string m) { return {StatusCode::kInvalidInput, std::move(m)}; }
inline Status cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
inline Status fatal_error(std::string m) { return {StatusCode::kFatal, std::move(m)}; }
inline Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status usage_error(std::string m) { return {StatusCode::kUsage, std::move(m)}; }

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT

  bool is_ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace sluice

// Invariant check, active in every build: a failure is a bug, not a condition.
#define SLUICE_CHECK(cond, msg)                                      \
  do {                                                               \
    if (!(cond)) ::sluice::check_failed(__FILE__, __LINE__, #cond, msg); \
  } while (0)

namespace sluice {
[[noreturn]] void check_failed(const char* file, int line, const char* cond,
                               const std::string& msg);
}  // namespace sluice
