// Opaque page tokens for keyset pagination, and page size validation.
//
// A token is web-safe base64 (no padding) of a small versioned payload: the
// position after which the next page starts (an integer row key, or a pair
// of keys) and a
// fingerprint of the query (resource kind and filters), so that a token is
// only accepted by the query that produced it. Tokens are not signed: a
// forged token can only select a different starting point of the same
// query, never other data.
#ifndef RECURRENT_PERSISTENCE_PAGE_TOKEN_H_
#define RECURRENT_PERSISTENCE_PAGE_TOKEN_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "persistence/records.h"

namespace recurrent::persistence {

// A stable (across processes and releases) 64-bit fingerprint of a query:
// its kind (e.g. "customers") and its filter values in a fixed order.
uint64_t QueryFingerprint(absl::string_view kind,
                          std::initializer_list<absl::string_view> parts);

// The fingerprints of the customer and invoice listings, the same on every
// backend; `status` is the stored code of the status filter ("" if none).
// A filter's token_scope counts only when not empty, so tokens made before
// it existed stay valid.
uint64_t CustomerQueryFingerprint(const CustomerFilter& filter,
                                  absl::string_view status);
uint64_t InvoiceQueryFingerprint(const InvoiceFilter& filter);

// Returns the token for the page after `last_key`.
std::string EncodePageToken(int64_t last_key, uint64_t fingerprint);

// Returns the last key of the previous page encoded in `token`.
// kInvalidArgument ("page_token ...") if the token is malformed or was made
// by a query with a different fingerprint.
absl::StatusOr<int64_t> DecodePageToken(absl::string_view token,
                                        uint64_t fingerprint);

// The same for queries ordered by two keys (e.g. (occurred_at, id)); the
// keys may be negative.
using PageKey = std::pair<int64_t, int64_t>;
std::string EncodePageToken(const PageKey& last, uint64_t fingerprint);
absl::StatusOr<PageKey> DecodePairPageToken(absl::string_view token,
                                            uint64_t fingerprint);

// kInvalidArgument unless page.page_size is in 1..kMaxPageSize (the
// service applies defaults and clamps before calling the core).
absl::Status ValidatePageSize(const PageRequest& page);

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_PAGE_TOKEN_H_
