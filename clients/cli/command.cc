#include "clients/cli/command.h"

#include <cstdio>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "clients/cli/values.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace recurrent::cli {
namespace {

// Keeps an error on one line.
std::string OneLine(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\r\n", " "}, {"\n", " "}, {"\r", " "}});
}

std::shared_ptr<grpc::ChannelCredentials> Credentials(
    const std::optional<TlsFiles>& tls) {
  if (!tls.has_value()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = tls->ca;
  ssl.pem_cert_chain = tls->cert;
  ssl.pem_private_key = tls->key;
  return grpc::SslCredentials(ssl);
}

}  // namespace

int ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::OUT_OF_RANGE:
      return kExitInvalidArgument;
    case grpc::StatusCode::NOT_FOUND:
      return kExitNotFound;
    case grpc::StatusCode::ALREADY_EXISTS:
      return kExitAlreadyExists;
    case grpc::StatusCode::FAILED_PRECONDITION:
      return kExitFailedPrecondition;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::ABORTED:
      return kExitUnavailable;
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kExitAuth;
    default:
      return kExitOtherError;
  }
}

Session::Session(GlobalOptions options, std::string command_path)
    : options_(std::move(options)),
      call_timeout_(options_.timeout.value_or(kDefaultTimeout)),
      command_path_(std::move(command_path)),
      channel_(grpc::CreateChannel(options_.addr, Credentials(options_.tls))),
      sources_(v1::SourceSettingsService::NewStub(channel_)),
      customers_(v1::CustomerService::NewStub(channel_)),
      invoices_(v1::InvoiceService::NewStub(channel_)),
      keys_(v1::ApiKeyService::NewStub(channel_)),
      changes_(v1::ChangeFeedService::NewStub(channel_)) {}

int Session::RpcFailed(const grpc::Status& status) {
  // gRPC and Abseil share the canonical codes and their names.
  std::string code = absl::StatusCodeToString(
      static_cast<absl::StatusCode>(status.error_code()));
  std::string message = OneLine(status.error_message());
  // Field violations (google.rpc.BadRequest) the message does not name yet.
  google::rpc::Status details;
  if (!status.error_details().empty() &&
      details.ParseFromString(status.error_details())) {
    for (const google::protobuf::Any& any : details.details()) {
      google::rpc::BadRequest bad_request;
      if (!any.UnpackTo(&bad_request)) continue;
      for (const auto& violation : bad_request.field_violations()) {
        if (absl::StrContains(message, violation.field())) continue;
        absl::StrAppend(&message, " [", violation.field(), ": ",
                        OneLine(violation.description()), "]");
      }
    }
  }
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    absl::StrAppend(&message, " (server ", options_.addr,
                    "; set --addr or RECURRENT_ADDR)");
  }
  std::fprintf(stderr, "recurrentctl: %s: %s\n", code.c_str(), message.c_str());
  return ExitCodeFor(status.error_code());
}

void Session::PrintAsOf(const google::protobuf::Timestamp* as_of) {
  if (json()) return;
  if (as_of != nullptr) {
    std::printf("As of %s\n", FormatTime(*as_of).c_str());
  } else {
    google::protobuf::Timestamp now;
    now.set_seconds(absl::ToUnixSeconds(absl::Now()));
    std::printf("As of now (%s)\n", FormatTime(now).c_str());
  }
}

void Session::PrintNextPage(const std::string& next_page_token) {
  if (json() || next_page_token.empty()) return;
  std::printf("Next page: --page-token=%s\n", next_page_token.c_str());
}

int Session::UsageError(const absl::Status& status) {
  std::fprintf(stderr, "recurrentctl: %s (see 'recurrentctl %s --help')\n",
               OneLine(status.message()).c_str(), command_path_.c_str());
  return kExitUsage;
}

int Session::LocalError(const absl::Status& status) {
  std::fprintf(stderr, "recurrentctl: %s\n", OneLine(status.message()).c_str());
  return kExitLocalError;
}

std::string Session::ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  // Cannot fail for our messages (no Any of an unknown type).
  if (!google::protobuf::util::MessageToJsonString(message, &json, options)
           .ok()) {
    return "null";
  }
  return json;
}

void Session::PrintJsonLine(const google::protobuf::Message& message) {
  std::fprintf(stdout, "%s\n", ToJson(message).c_str());
  std::fflush(stdout);
}

void Session::PrintJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  std::string json;
  auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    // Cannot happen for our messages; say so rather than print nothing.
    std::fprintf(stderr, "recurrentctl: cannot print JSON: %s\n",
                 std::string(status.message()).c_str());
    return;
  }
  std::fputs(json.c_str(), stdout);
  if (json.empty() || json.back() != '\n') std::fputc('\n', stdout);
}

absl::StatusOr<std::optional<google::protobuf::Timestamp>> ParseAsOfFlag(
    const ParsedArgs& args) {
  if (!args.Has("as-of")) return std::nullopt;
  absl::StatusOr<google::protobuf::Timestamp> parsed =
      ParseTimeFlag("as-of", args.Get("as-of"));
  if (!parsed.ok()) return parsed.status();
  return *parsed;
}

absl::StatusOr<Paging> ParsePaging(const ParsedArgs& args) {
  Paging paging;
  for (auto [name, field] : {std::pair{"limit", &paging.limit},
                             std::pair{"page-size", &paging.page_size}}) {
    if (!args.Has(name)) continue;
    absl::StatusOr<int> value = ParseIntFlag(name, args.Get(name));
    if (!value.ok()) return value.status();
    if (*value < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " must be at least 1"));
    }
    *field = *value;
  }
  paging.page_token = args.Get("page-token");
  return paging;
}

}  // namespace recurrent::cli
