#include "persistence/page_token.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/fnv1a.h"

namespace recurrent::persistence {
namespace {

constexpr char kTokenVersion = 1;
constexpr size_t kPayloadSize = 1 + 8 + 8;  // version, last key, fingerprint
// Tokens of queries ordered by two keys.
constexpr char kPairTokenVersion = 2;
constexpr size_t kPairPayloadSize =
    1 + 8 + 8 + 8;  // version, keys, fingerprint

void PutUint64(uint64_t value, std::string& out) {
  for (int i = 7; i >= 0; --i)
    out.push_back(static_cast<char>(value >> (8 * i)));
}

uint64_t GetUint64(absl::string_view in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value = (value << 8) | static_cast<unsigned char>(in[i]);
  }
  return value;
}

}  // namespace

uint64_t QueryFingerprint(absl::string_view kind,
                          std::initializer_list<absl::string_view> parts) {
  common::Fnv1a fnv;
  fnv.AddLengthPrefixed(kind);
  fnv.AddUint64(parts.size());
  for (absl::string_view part : parts) fnv.AddLengthPrefixed(part);
  return fnv.hash();
}

uint64_t CustomerQueryFingerprint(const CustomerFilter& filter,
                                  absl::string_view status) {
  if (filter.token_scope.empty()) {
    return QueryFingerprint(
        "customers",
        {filter.data_source_uuid, filter.external_id, filter.email, status});
  }
  return QueryFingerprint(
      "customers", {filter.data_source_uuid, filter.external_id, filter.email,
                    status, filter.token_scope});
}

uint64_t InvoiceQueryFingerprint(const InvoiceFilter& filter) {
  if (filter.token_scope.empty()) {
    return QueryFingerprint(
        "invoices",
        {filter.customer_uuid, filter.data_source_uuid, filter.external_id});
  }
  return QueryFingerprint("invoices",
                          {filter.customer_uuid, filter.data_source_uuid,
                           filter.external_id, filter.token_scope});
}

std::string EncodePageToken(int64_t last_key, uint64_t fingerprint) {
  std::string payload;
  payload.reserve(kPayloadSize);
  payload.push_back(kTokenVersion);
  PutUint64(static_cast<uint64_t>(last_key), payload);
  PutUint64(fingerprint, payload);
  return absl::WebSafeBase64Escape(payload);
}

absl::StatusOr<int64_t> DecodePageToken(absl::string_view token,
                                        uint64_t fingerprint) {
  std::string payload;
  if (!absl::WebSafeBase64Unescape(token, &payload) ||
      payload.size() != kPayloadSize || payload[0] != kTokenVersion) {
    return common::InvalidField("page_token", "is malformed");
  }
  absl::string_view view(payload);
  const int64_t last_key = static_cast<int64_t>(GetUint64(view.substr(1, 8)));
  if (GetUint64(view.substr(9, 8)) != fingerprint) {
    return common::InvalidField(
        "page_token", "does not belong to this query (filters changed?)");
  }
  if (last_key < 0)
    return common::InvalidField("page_token", "is malformed");
  return last_key;
}

std::string EncodePageToken(const PageKey& last, uint64_t fingerprint) {
  std::string payload;
  payload.reserve(kPairPayloadSize);
  payload.push_back(kPairTokenVersion);
  PutUint64(static_cast<uint64_t>(last.first), payload);
  PutUint64(static_cast<uint64_t>(last.second), payload);
  PutUint64(fingerprint, payload);
  return absl::WebSafeBase64Escape(payload);
}

absl::StatusOr<PageKey> DecodePairPageToken(absl::string_view token,
                                            uint64_t fingerprint) {
  std::string payload;
  if (!absl::WebSafeBase64Unescape(token, &payload) ||
      payload.size() != kPairPayloadSize || payload[0] != kPairTokenVersion) {
    return common::InvalidField("page_token", "is malformed");
  }
  absl::string_view view(payload);
  if (GetUint64(view.substr(17, 8)) != fingerprint) {
    return common::InvalidField(
        "page_token", "does not belong to this query (filters changed?)");
  }
  return PageKey{static_cast<int64_t>(GetUint64(view.substr(1, 8))),
                 static_cast<int64_t>(GetUint64(view.substr(9, 8)))};
}

absl::Status ValidatePageSize(const PageRequest& page) {
  if (page.page_size < 1 || page.page_size > kMaxPageSize) {
    return common::InvalidField("page_size",
                                absl::StrCat("must be in 1..", kMaxPageSize));
  }
  return absl::OkStatus();
}

}  // namespace recurrent::persistence
