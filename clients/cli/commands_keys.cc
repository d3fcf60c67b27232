// recurrentctl keys ...: ApiKeyService.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/command.h"
#include "clients/cli/table.h"
#include "clients/cli/values.h"

namespace recurrent::cli {
namespace {

std::string RoleName(v1::ApiKeyRole role) {
  switch (role) {
    case v1::API_KEY_ROLE_READER:
      return "reader";
    case v1::API_KEY_ROLE_WRITER:
      return "writer";
    case v1::API_KEY_ROLE_ADMIN:
      return "admin";
    default:
      return "";
  }
}

// "reader", "writer", "admin" (any case, or the enum's full name).
absl::StatusOr<v1::ApiKeyRole> ParseRole(absl::string_view value) {
  std::string name = absl::AsciiStrToLower(value);
  for (v1::ApiKeyRole role : {v1::API_KEY_ROLE_READER, v1::API_KEY_ROLE_WRITER,
                              v1::API_KEY_ROLE_ADMIN}) {
    if (name == RoleName(role) ||
        name == absl::AsciiStrToLower(v1::ApiKeyRole_Name(role))) {
      return role;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--role must be reader, writer or admin, got \"", value, "\""));
}

void PrintKeys(Session& session, const v1::ListApiKeysResponse& list) {
  if (session.json()) return session.PrintJson(list);
  Table table({"UUID", "NAME", "ROLE", "CREATED", "REVOKED"});
  for (const v1::ApiKey& key : list.keys()) {
    table.AddRow({key.uuid(), key.name(), RoleName(key.role()),
                  FormatTime(key.created_at()), FormatTime(key.revoked_at())});
  }
  table.Print(stdout);
}

int KeysCreate(Session& session, const ParsedArgs& args) {
  if (args.Get("name").empty()) {
    return session.UsageError(absl::InvalidArgumentError("--name is required"));
  }
  if (!args.Has("role")) {
    return session.UsageError(absl::InvalidArgumentError(
        "--role is required (reader, writer or admin)"));
  }
  absl::StatusOr<v1::ApiKeyRole> role = ParseRole(args.Get("role"));
  if (!role.ok()) return session.UsageError(role.status());
  v1::CreateApiKeyRequest request;
  request.set_name(args.Get("name"));
  request.set_role(*role);
  v1::CreateApiKeyResponse response;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.keys().CreateApiKey(context, request, &response);
      })) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(response);
    return kExitOk;
  }
  // The key alone on stdout, so that `KEY=$(recurrentctl keys create ...)`
  // works; the rest on stderr.
  std::printf("%s\n", response.api_key().c_str());
  std::fprintf(stderr,
               "created API key %s \"%s\" (%s). This is the only time the "
               "key is shown; store it now.\n",
               response.key().uuid().c_str(), response.key().name().c_str(),
               RoleName(response.key().role()).c_str());
  return kExitOk;
}

int KeysList(Session& session, const ParsedArgs& args) {
  absl::StatusOr<Paging> paging = ParsePaging(args);
  if (!paging.ok()) return session.UsageError(paging.status());
  v1::ListApiKeysResponse all;
  if (int rc = FetchAllPages(
          session, *paging, v1::ListApiKeysRequest(),
          [&](grpc::ClientContext* context,
              const v1::ListApiKeysRequest& request,
              v1::ListApiKeysResponse* page) {
            return session.keys().ListApiKeys(context, request, page);
          },
          [](v1::ListApiKeysResponse* response) {
            return response->mutable_keys();
          },
          &all)) {
    return rc;
  }
  PrintKeys(session, all);
  session.PrintNextPage(all.next_page_token());
  return kExitOk;
}

int KeysRevoke(Session& session, const ParsedArgs& args) {
  v1::RevokeApiKeyRequest request;
  request.set_uuid(args.positional()[0]);
  v1::ApiKey key;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.keys().RevokeApiKey(context, request, &key);
      })) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(key);
  } else {
    std::printf("API key %s \"%s\" revoked\n", key.uuid().c_str(),
                key.name().c_str());
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> KeyCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {"keys",
       "create",
       "",
       "Create an API key and print it (only this once).",
       "Prints the key alone on stdout (the details go to stderr; with -o "
       "json, the whole\nresponse). The server keeps only a hash of it. "
       "Roles: reader (every read), writer\n(reads; customers, invoices, "
       "transactions, cancellations, tags), admin (everything,\nincluding "
       "data sources, settings, reprocessing, deletes, merges and keys). "
       "While the\nserver has no key at all, the first one can be created "
       "without --api-key.",
       {{"name", "NAME",
         "Unique name, shown in the settings history and audit log "
         "(required)."},
        {"role", "ROLE", "reader, writer or admin (required)."}},
       0,
       0,
       {"recurrentctl keys create --name=ops --role=admin",
        "export RECURRENT_API_KEY=$(recurrentctl keys create --name=sync "
        "--role=writer)"},
       KeysCreate});
  commands.push_back({"keys",
                      "list",
                      "",
                      "List API keys (never their secrets), revoked ones "
                      "included.",
                      "",
                      PagingFlags(),
                      0,
                      0,
                      {"recurrentctl keys list"},
                      KeysList});
  commands.push_back({"keys",
                      "revoke",
                      "KEY_UUID",
                      "Revoke an API key: calls with it fail from now on.",
                      "",
                      {},
                      1,
                      1,
                      {"recurrentctl keys revoke key_…"},
                      KeysRevoke});
  return commands;
}

}  // namespace recurrent::cli
