#include "service/method_names.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace recurrent::service {

const google::protobuf::MethodDescriptor* FindMethod(absl::string_view path) {
  // "/package.Service/Method": one leading slash, one slash between.
  const size_t slash = path.rfind('/');
  if (!absl::StartsWith(path, "/") || slash == 0 || slash + 1 >= path.size()) {
    return nullptr;
  }
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
      absl::StrCat(path.substr(1, slash - 1), ".", path.substr(slash + 1)));
}

std::string KnownMethodName(const char* path) {
  if (path == nullptr || FindMethod(path) == nullptr) {
    return std::string(kUnknownMethod);
  }
  return path;
}

bool ReceivesProtobufMessage(absl::string_view known) {
  return known != kUnknownMethod &&
         !absl::StartsWith(known, "/grpc.health.v1.Health/");
}

}  // namespace recurrent::service
