#include "persistence/page_token.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace recurrent::persistence {
namespace {

constexpr char kTokenVersion = 1;
constexpr size_t kPayloadSize = 1 + 8 + 8;  // version, last key, fingerprint

// FNV-1a: simple, stable and good enough to tell queries apart.
class Fnv1a {
 public:
  void Add(absl::string_view bytes) {
    for (unsigned char c : bytes) {
      hash_ ^= c;
      hash_ *= 0x100000001b3ULL;
    }
  }
  void AddLengthPrefixed(absl::string_view bytes) {
    AddUint64(bytes.size());
    Add(bytes);
  }
  void AddUint64(uint64_t value) {
    for (int i = 0; i < 8; ++i) {
      const char byte = static_cast<char>(value >> (8 * i));
      Add(absl::string_view(&byte, 1));
    }
  }
  uint64_t hash() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

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
  Fnv1a fnv;
  fnv.AddLengthPrefixed(kind);
  fnv.AddUint64(parts.size());
  for (absl::string_view part : parts) fnv.AddLengthPrefixed(part);
  return fnv.hash();
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
    return absl::InvalidArgumentError("page_token is malformed");
  }
  absl::string_view view(payload);
  const int64_t last_key = static_cast<int64_t>(GetUint64(view.substr(1, 8)));
  if (GetUint64(view.substr(9, 8)) != fingerprint) {
    return absl::InvalidArgumentError(
        "page_token does not belong to this query (filters changed?)");
  }
  if (last_key < 0)
    return absl::InvalidArgumentError("page_token is malformed");
  return last_key;
}

absl::Status ValidatePageSize(const PageRequest& page) {
  if (page.page_size < 1 || page.page_size > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size must be in 1..", kMaxPageSize));
  }
  return absl::OkStatus();
}

}  // namespace recurrent::persistence
