// Parsing of ApiKeyService requests.
#include "service/api_key_requests.h"

#include "absl/strings/ascii.h"
#include "service/convert.h"
#include "service/errors.h"
#include "service/field_checks.h"

namespace recurrent::service {
namespace {

constexpr size_t kMaxApiKeyNameLength = 100;

bool IsNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
         c == '_' || c == '.' || c == '@';
}

}  // namespace

absl::StatusOr<NewApiKey> ParseCreateApiKey(
    const v1::CreateApiKeyRequest& request) {
  NewApiKey key;
  key.name = request.name();
  if (key.name.empty()) return InvalidField("name", "required");
  if (key.name.size() > kMaxApiKeyNameLength) {
    return InvalidField("name", "must be at most 100 characters");
  }
  for (char c : key.name) {
    if (!IsNameChar(c)) {
      return InvalidField(
          "name", "may contain only letters, digits, '-', '_', '.' and '@'");
    }
  }
  std::optional<persistence::ApiKeyRole> role =
      ApiKeyRoleFromProto(request.role());
  if (!role.has_value()) {
    return InvalidField("role",
                        "must be API_KEY_ROLE_READER, API_KEY_ROLE_WRITER or "
                        "API_KEY_ROLE_ADMIN");
  }
  key.role = *role;
  return key;
}

}  // namespace recurrent::service
