// Status-propagation macros for absl::Status and absl::StatusOr.
//
// Abseil 20220623 ships no macros of its own, so Recurrent defines the two
// conventional ones:
//
//   RECURRENT_RETURN_IF_ERROR(expr);            // returns the status if expr
//   is not OK RECURRENT_ASSIGN_OR_RETURN(lhs, expr);      // lhs = *expr, or
//   returns expr.status()
//
// `expr` may yield absl::Status or absl::StatusOr<T>. `lhs` may declare a
// variable (`RECURRENT_ASSIGN_OR_RETURN(auto x, F())`) or name an existing one.
#ifndef RECURRENT_COMMON_STATUS_MACROS_H_
#define RECURRENT_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace recurrent::common::internal {

inline const absl::Status& AsStatus(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& AsStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace recurrent::common::internal

#define RECURRENT_CONCAT_INNER_(a, b) a##b
#define RECURRENT_CONCAT_(a, b) RECURRENT_CONCAT_INNER_(a, b)

#define RECURRENT_RETURN_IF_ERROR(expr)                      \
  do {                                                       \
    if (const absl::Status recurrent_status_ =               \
            ::recurrent::common::internal::AsStatus((expr)); \
        !recurrent_status_.ok()) {                           \
      return recurrent_status_;                              \
    }                                                        \
  } while (false)

#define RECURRENT_ASSIGN_OR_RETURN(lhs, expr) \
  RECURRENT_ASSIGN_OR_RETURN_IMPL_(           \
      RECURRENT_CONCAT_(recurrent_status_or_, __LINE__), lhs, expr)

#define RECURRENT_ASSIGN_OR_RETURN_IMPL_(status_or, lhs, expr) \
  auto status_or = (expr);                                     \
  if (!status_or.ok()) return std::move(status_or).status();   \
  lhs = std::move(status_or).value()

#endif  // RECURRENT_COMMON_STATUS_MACROS_H_
