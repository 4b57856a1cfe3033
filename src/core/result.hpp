#pragma once
// Result<T>: the one way expected failures travel in repute. A value or an Error the caller must look at.
#include <string>
#include <utility>
#include <variant>

namespace repute::core {

// What kind of failure happened; the API maps each to a status code.
enum class ErrorCode {
  kInvalid,      // the input is wrong (400)
  kNotFound,     // no such object for this tenant (404)
  kConflict,     // the object's state forbids it (409)
  kUnavailable,  // a dependency is busy or down; try again (503)
  kStorageFull,  // the disk is full (503)
  kInternal,     // a bug or an unexpected failure (500)
};

// An expected failure: a code for the caller and a message for the person reading it.
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

inline Error invalid(std::string message) { return {ErrorCode::kInvalid, std::move(message)}; }
inline Error not_found(std::string message) { return {ErrorCode::kNotFound, std::move(message)}; }
inline Error internal_error(std::string message) { return {ErrorCode::kInternal, std::move(message)}; }

// A value of T, or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Success carries no value.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace repute::core
