// Status and Result<T>: how every fallible function in outpost reports failure.
//
// Errors inside lib/ are values, never exceptions escaping a thread (DESIGN.md,
// "Layers"). A Status carries a stable Code (part of the API: codes are never
// renumbered; see docs/cli.md) and a message that says what failed and why.
// Result<T> is either a T or a non-OK Status.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace outpost {

enum class Code : int {
  kOk = 0,
  kInvalidArgument = 1,   // the caller's input is wrong (config, CLI, SQL)
  kNotFound = 2,          // a named thing does not exist
  kPermissionDenied = 3,  // the OS or a policy refused access
  kIoError = 4,           // reading or writing failed
  kCorrupt = 5,           // stored data does not parse
  kUnavailable = 6,       // try again later (network, busy)
  kUnsupported = 7,       // not available on this OS or build
  kInternal = 8,          // a bug: an invariant did not hold
};

// Stable lower-case name of a code, e.g. "invalid_argument".
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "<code name>: <message>", or "ok".
  std::string ToString() const;

  // Prefixes the message with context ("reading /etc/x: " + message).
  Status WithContext(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
inline Status Corrupt(std::string m) { return {Code::kCorrupt, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status Unsupported(std::string m) { return {Code::kUnsupported, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

// Either a value or a non-OK Status. Constructing a Result from an OK Status is a
// bug; it is turned into an kInternal error rather than an abort.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status)                      // NOLINT(google-explicit-constructor)
      : v_(status.ok() ? Internal("Result constructed from an OK status") : std::move(status)) {}

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  // Precondition: ok(). Calling these on an error is a bug.
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The error, or OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T value_or(T fallback) const { return ok() ? std::get<T>(v_) : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace outpost

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define OUTPOST_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::outpost::Status outpost_status_ = (expr);        \
    if (!outpost_status_.ok()) return outpost_status_; \
  } while (0)
