// Parsing of ApiKeyService requests: each Parse* function checks a request
// completely and returns the typed values the handler needs, or an
// INVALID_ARGUMENT status naming the offending field.
#ifndef RECURRENT_SERVICE_API_KEY_REQUESTS_H_
#define RECURRENT_SERVICE_API_KEY_REQUESTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "persistence/api_key_store.h"
#include "recurrent/v1/api_key.pb.h"

namespace recurrent::service {

struct NewApiKey {
  std::string name;
  persistence::ApiKeyRole role = persistence::ApiKeyRole::kReader;
};
// `name`: 1..100 characters of letters, digits, '-', '_', '.', '@';
// `role`: specified.
absl::StatusOr<NewApiKey> ParseCreateApiKey(
    const v1::CreateApiKeyRequest& request);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_API_KEY_REQUESTS_H_
