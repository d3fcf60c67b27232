// Opaque resource IDs: a type prefix and 20 random lowercase base32
// characters (100 bits), e.g. "cus_k3v9q2mzt7hx4bde5wrn".
//
// IDs carry no meaning beyond their prefix; never parse them. They are not
// secrets either (they come from absl::BitGen, seeded from the OS), but they
// are unguessable enough that collisions are not a practical concern; tables
// still declare them UNIQUE.
#ifndef RECURRENT_COMMON_IDS_H_
#define RECURRENT_COMMON_IDS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace recurrent::common {

// Type prefixes, one per resource kind (including those of later tables).
inline constexpr absl::string_view kDataSourceIdPrefix = "ds_";
inline constexpr absl::string_view kCustomerIdPrefix = "cus_";
inline constexpr absl::string_view kInvoiceIdPrefix = "inv_";
inline constexpr absl::string_view kLineItemIdPrefix = "li_";
inline constexpr absl::string_view kTransactionIdPrefix = "tr_";
inline constexpr absl::string_view kSubscriptionIdPrefix = "sub_";
inline constexpr absl::string_view kEventIdPrefix = "evt_";
inline constexpr absl::string_view kApiKeyIdPrefix = "key_";

// Number of random characters after the prefix, and their alphabet
// (lowercase base32).
inline constexpr int kIdRandomChars = 20;
inline constexpr absl::string_view kIdAlphabet =
    "abcdefghijklmnopqrstuvwxyz234567";

// Returns `prefix` followed by kIdRandomChars random characters of
// kIdAlphabet. Thread-safe.
std::string NewId(absl::string_view prefix);

// Returns `prefix` followed by kIdRandomChars characters of the same
// alphabet derived deterministically from `key` (a stable 100-bit hash):
// the same key always gives the same ID, in every process and release. For
// rows whose identity is a function of their content (e.g. events of a
// recomputed timeline). Thread-safe.
std::string DerivedId(absl::string_view prefix, absl::string_view key);

// True if `id` looks like an ID made by NewId(prefix). Cheap syntactic check
// only (the ID may not exist).
bool HasIdShape(absl::string_view id, absl::string_view prefix);

}  // namespace recurrent::common

#endif  // RECURRENT_COMMON_IDS_H_
