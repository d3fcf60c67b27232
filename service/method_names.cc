#include "service/method_names.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"

namespace recurrent::service {

std::string KnownMethodName(const char* path) {
  if (path == nullptr) return std::string(kUnknownMethod);
  const absl::string_view name(path);
  // "/package.Service/Method": one leading slash, one slash between.
  const size_t slash = name.rfind('/');
  if (!absl::StartsWith(name, "/") || slash == 0 || slash + 1 >= name.size()) {
    return std::string(kUnknownMethod);
  }
  const std::string full =
      absl::StrCat(name.substr(1, slash - 1), ".", name.substr(slash + 1));
  const google::protobuf::MethodDescriptor* method =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          full);
  return method != nullptr ? std::string(name) : std::string(kUnknownMethod);
}

bool ReceivesProtobufMessage(absl::string_view known) {
  return known != kUnknownMethod &&
         !absl::StartsWith(known, "/grpc.health.v1.Health/");
}

}  // namespace recurrent::service
