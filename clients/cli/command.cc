#include "clients/cli/command.h"

#include <cstdio>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "clients/cli/values.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
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

ErrorDetails DecodeErrorDetails(const grpc::Status& status) {
  ErrorDetails decoded;
  google::rpc::Status details;
  if (status.error_details().empty() ||
      !details.ParseFromString(status.error_details())) {
    return decoded;
  }
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::RetryInfo retry;
    google::rpc::BadRequest bad_request;
    if (any.UnpackTo(&info)) {
      decoded.has_info = true;
      decoded.reason = info.reason();
      decoded.domain = info.domain();
      decoded.metadata.insert(info.metadata().begin(), info.metadata().end());
    } else if (any.UnpackTo(&retry)) {
      decoded.retry_delay = absl::Seconds(retry.retry_delay().seconds()) +
                            absl::Nanoseconds(retry.retry_delay().nanos());
    } else if (any.UnpackTo(&bad_request)) {
      for (const auto& violation : bad_request.field_violations()) {
        decoded.field_violations.emplace_back(violation.field(),
                                              violation.description());
      }
    }
  }
  return decoded;
}

int ExitCodeFor(grpc::StatusCode code, const ErrorDetails& details) {
  if (details.retry_delay.has_value()) return kExitUnavailable;
  const int by_code = ExitCodeFor(code);
  if (!details.has_info || by_code != kExitUnavailable) return by_code;
  // The server says why and does not suggest a retry.
  return kExitOtherError;
}

std::string FormatRetryDelay(absl::Duration delay) {
  google::protobuf::Duration duration;
  absl::Duration nanos;
  duration.set_seconds(absl::IDivDuration(delay, absl::Seconds(1), &nanos));
  duration.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(nanos)));
  return google::protobuf::util::TimeUtil::ToString(duration);
}

std::string ErrorJson(absl::string_view code, absl::string_view message,
                      const ErrorDetails& details, int exit_code) {
  // Written out in a fixed order; strings escaped by protobuf's JSON printer.
  const auto quote = [](absl::string_view text) {
    google::protobuf::Value value;
    value.set_string_value(std::string(text));
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(value, &json).ok()) {
      return std::string("\"\"");
    }
    return json;
  };
  std::string json = absl::StrCat("{\"error\":{\"code\":", quote(code),
                                  ",\"message\":", quote(message));
  if (details.has_info) {
    absl::StrAppend(&json, ",\"reason\":", quote(details.reason),
                    ",\"domain\":", quote(details.domain), ",\"metadata\":{");
    const char* separator = "";
    for (const auto& [key, value] : details.metadata) {
      absl::StrAppend(&json, separator, quote(key), ":", quote(value));
      separator = ",";
    }
    absl::StrAppend(&json, "}");
  }
  if (details.retry_delay.has_value()) {
    absl::StrAppend(&json, ",\"retryDelay\":",
                    quote(FormatRetryDelay(*details.retry_delay)));
  }
  if (!details.field_violations.empty()) {
    absl::StrAppend(&json, ",\"fieldViolations\":[");
    const char* separator = "";
    for (const auto& [field, description] : details.field_violations) {
      absl::StrAppend(&json, separator, "{\"field\":", quote(field),
                      ",\"description\":", quote(description), "}");
      separator = ",";
    }
    absl::StrAppend(&json, "]");
  }
  absl::StrAppend(&json, ",\"retryable\":",
                  exit_code == kExitUnavailable ? "true" : "false",
                  ",\"exitCode\":", exit_code, "}}");
  return json;
}

Session::Session(GlobalOptions options, std::string command_path,
                 const common::Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      call_timeout_(options_.timeout.value_or(kDefaultTimeout)),
      command_path_(std::move(command_path)),
      channel_(grpc::CreateChannel(options_.addr, Credentials(options_.tls))),
      sources_(v1::SourceSettingsService::NewStub(channel_)),
      customers_(v1::CustomerService::NewStub(channel_)),
      invoices_(v1::InvoiceService::NewStub(channel_)),
      keys_(v1::ApiKeyService::NewStub(channel_)),
      changes_(v1::ChangeFeedService::NewStub(channel_)),
      metrics_(v1::MetricsService::NewStub(channel_)) {}

int Session::RpcFailed(const grpc::Status& status) {
  // gRPC and Abseil share the canonical codes and their names.
  std::string code = absl::StatusCodeToString(
      static_cast<absl::StatusCode>(status.error_code()));
  std::string message = OneLine(status.error_message());
  const ErrorDetails details = DecodeErrorDetails(status);
  const int exit_code = ExitCodeFor(status.error_code(), details);
  if (json()) {
    std::fprintf(stderr, "%s\n",
                 ErrorJson(code, message, details, exit_code).c_str());
    return exit_code;
  }
  // Field violations (google.rpc.BadRequest) the message does not name yet.
  for (const auto& [field, description] : details.field_violations) {
    if (absl::StrContains(message, field)) continue;
    absl::StrAppend(&message, " [", field, ": ", OneLine(description), "]");
  }
  if (details.has_info) {
    absl::StrAppend(&message, " (reason ", details.reason);
    if (details.retry_delay.has_value()) {
      absl::StrAppend(&message, "; retry after ",
                      FormatRetryDelay(*details.retry_delay));
    }
    absl::StrAppend(&message, ")");
  } else if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
             status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    // Not the server's word: most likely it was not reached.
    absl::StrAppend(&message, " (server ", options_.addr,
                    "; set --addr or RECURRENT_ADDR)");
  }
  std::fprintf(stderr, "recurrentctl: %s: %s\n", code.c_str(), message.c_str());
  return exit_code;
}

void Session::PrintAsOf(const google::protobuf::Timestamp* as_of) {
  if (json()) return;
  if (as_of != nullptr) {
    std::printf("As of %s\n", FormatTime(*as_of).c_str());
  } else {
    google::protobuf::Timestamp now;
    now.set_seconds(absl::ToUnixSeconds(Now()));
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
    const ParsedArgs& args, absl::Time now) {
  if (!args.Has("as-of")) return std::nullopt;
  absl::StatusOr<google::protobuf::Timestamp> parsed =
      ParseTimeFlag("as-of", args.Get("as-of"), now);
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
