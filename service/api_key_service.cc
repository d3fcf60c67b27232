#include "service/api_key_service.h"

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "service/api_key_requests.h"
#include "service/convert.h"
#include "service/field_checks.h"

namespace recurrent::service {

grpc::ServerUnaryReactor* ApiKeyServiceImpl::CreateApiKey(
    grpc::CallbackServerContext* context,
    const v1::CreateApiKeyRequest* request,
    v1::CreateApiKeyResponse* response) {
  return Dispatch(context, env_, Role::kAdmin,
                  [this, request, response](const Caller& caller) {
                    RECURRENT_ASSIGN_OR_RETURN(NewApiKey key,
                                               ParseCreateApiKey(*request));
                    const absl::Time now = env_.clock->Now();
                    // Without a key, only the server's first key (the
                    // bootstrap); the store checks that atomically.
                    const auto creation =
                        caller.key_uuid.empty()
                            ? persistence::ApiKeyStore::Creation::kFirstOnly
                            : persistence::ApiKeyStore::Creation::kAny;
                    RECURRENT_ASSIGN_OR_RETURN(
                        CreatedKey created,
                        env_.access->CreateKey(key.name, key.role, now,
                                               creation));
                    env_.access->Audit(
                        caller, "ApiKeyService.CreateApiKey",
                        absl::StrCat(created.key.uuid, " \"", created.key.name,
                                     "\" ", RoleName(created.key.role)),
                        now);
                    response->set_api_key(created.secret);
                    ApiKeyToProto(created.key, response->mutable_key());
                    return absl::OkStatus();
                  });
}

grpc::ServerUnaryReactor* ApiKeyServiceImpl::ListApiKeys(
    grpc::CallbackServerContext* context, const v1::ListApiKeysRequest* request,
    v1::ListApiKeysResponse* response) {
  return Dispatch(context, env_, Role::kAdmin, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(
        persistence::PageRequest page_request,
        ParsePage(request->page_size(), request->page_token()));
    RECURRENT_ASSIGN_OR_RETURN(persistence::Page<persistence::ApiKey> page,
                               env_.access->ListKeys(page_request));
    for (const persistence::ApiKey& key : page.items) {
      ApiKeyToProto(key, response->add_keys());
    }
    response->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ApiKeyServiceImpl::RevokeApiKey(
    grpc::CallbackServerContext* context,
    const v1::RevokeApiKeyRequest* request, v1::ApiKey* response) {
  return Dispatch(
      context, env_, Role::kAdmin,
      [this, request, response](const Caller& caller) {
        RECURRENT_RETURN_IF_ERROR(
            CheckId(request->uuid(), common::kApiKeyIdPrefix, "uuid"));
        const absl::Time now = env_.clock->Now();
        RECURRENT_ASSIGN_OR_RETURN(
            persistence::ApiKey key,
            env_.access->RevokeKey(request->uuid(), now));
        env_.access->Audit(caller, "ApiKeyService.RevokeApiKey", key.uuid, now);
        ApiKeyToProto(key, response);
        return absl::OkStatus();
      });
}

}  // namespace recurrent::service
