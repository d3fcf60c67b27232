// ApiKeyService: creating, listing and revoking API keys (admin only).
#ifndef RECURRENT_SERVICE_API_KEY_SERVICE_H_
#define RECURRENT_SERVICE_API_KEY_SERVICE_H_

#include "recurrent/v1/api_key.grpc.pb.h"
#include "service/dispatch.h"

namespace recurrent::service {

// Thread-safe. Adapts requests to AccessControl (service/access_control.h);
// see protos/recurrent/v1/api_key.proto for the contract of each method.
class ApiKeyServiceImpl final : public v1::ApiKeyService::CallbackService {
 public:
  explicit ApiKeyServiceImpl(const ServiceEnv& env) : env_(env) {}

  grpc::ServerUnaryReactor* CreateApiKey(
      grpc::CallbackServerContext* context,
      const v1::CreateApiKeyRequest* request,
      v1::CreateApiKeyResponse* response) override;
  grpc::ServerUnaryReactor* ListApiKeys(
      grpc::CallbackServerContext* context,
      const v1::ListApiKeysRequest* request,
      v1::ListApiKeysResponse* response) override;
  grpc::ServerUnaryReactor* RevokeApiKey(grpc::CallbackServerContext* context,
                                         const v1::RevokeApiKeyRequest* request,
                                         v1::ApiKey* response) override;

 private:
  const ServiceEnv env_;
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_API_KEY_SERVICE_H_
