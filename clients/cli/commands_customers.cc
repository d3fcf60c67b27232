// recurrentctl customers ...: CustomerService, except subscriptions and
// events (commands_subscriptions.cc).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/cli/command.h"
#include "clients/cli/table.h"
#include "clients/cli/values.h"
#include "clients/cli/views.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/field_mask.pb.h"

namespace recurrent::cli {
namespace {

// The writable customer fields: a flag each, named after the field.
struct CustomerField {
  const char* flag;
  const char* field;  // Customer field name, also the update-mask path
  bool is_time;
  const char* help;
};

constexpr CustomerField kCustomerFields[] = {
    {"name", "name", false, "Name."},
    {"email", "email", false, "Email address."},
    {"company", "company", false, "Company."},
    {"country", "country", false, "ISO 3166-1 alpha-2 country code, e.g. DE."},
    {"state", "state", false, "State or region."},
    {"city", "city", false, "City."},
    {"zip", "zip", false, "Postal code."},
    {"lead-created-at", "lead_created_at", true,
     "When the customer became a lead (DATE)."},
    {"free-trial-started-at", "free_trial_started_at", true,
     "When the free trial started (DATE; also sets lead-created-at)."},
};

std::vector<FlagSpec> CustomerFieldFlags() {
  std::vector<FlagSpec> flags;
  for (const CustomerField& field : kCustomerFields) {
    flags.push_back({field.flag, field.is_time ? "DATE" : "VALUE", field.help});
  }
  return flags;
}

// Sets the customer fields whose flags were given; appends their paths to
// `mask` when it is not null. INVALID_ARGUMENT for a bad date.
absl::Status SetCustomerFields(const ParsedArgs& args, absl::Time now,
                               v1::Customer* customer,
                               google::protobuf::FieldMask* mask) {
  const google::protobuf::Descriptor* descriptor = customer->GetDescriptor();
  const google::protobuf::Reflection* reflection = customer->GetReflection();
  for (const CustomerField& field : kCustomerFields) {
    if (!args.Has(field.flag)) continue;
    const google::protobuf::FieldDescriptor* fd =
        descriptor->FindFieldByName(field.field);
    if (field.is_time) {
      // Empty: the field stays unset, and the mask clears it.
      if (!args.Get(field.flag).empty()) {
        auto time = ParseTimeFlag(field.flag, args.Get(field.flag), now);
        if (!time.ok()) return time.status();
        reflection->MutableMessage(customer, fd)->CopyFrom(*time);
      }
    } else {
      reflection->SetString(customer, fd, args.Get(field.flag));
    }
    if (mask != nullptr) mask->add_paths(field.field);
  }
  return absl::OkStatus();
}

void PrintCustomers(Session& session, const v1::ListCustomersResponse& list) {
  if (session.json()) return session.PrintJson(list);
  Table table({"UUID", "SOURCE", "EXTERNAL ID", "NAME", "EMAIL", "STATUS",
               "MRR", "TAGS", "REASON"});
  for (const v1::Customer& customer : list.customers()) {
    std::vector<std::string> external_ids;
    for (const v1::CustomerExternalId& id : customer.external_ids()) {
      external_ids.push_back(id.external_id());
    }
    if (external_ids.empty()) external_ids.push_back(customer.external_id());
    table.AddRow(
        {customer.uuid(), customer.data_source_uuid(),
         absl::StrJoin(external_ids, ","), customer.name(), customer.email(),
         CustomerStatusName(customer.status()), FormatMoneyList(customer.mrr()),
         absl::StrJoin(customer.tags(), ","), customer.status_reason()});
  }
  table.Print(stdout);
}

// Prints the customer returned by a call, or the call's error. A read
// evaluated at an instant passes `as_of` (holding null for now) to print it
// first (see Session::PrintAsOf); a write shows no instant.
template <typename Call>
int PrintCustomerFrom(
    Session& session, Call&& call,
    std::optional<const google::protobuf::Timestamp*> as_of = std::nullopt) {
  v1::ListCustomersResponse list;
  v1::Customer* customer = list.add_customers();
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return call(context, customer);
      })) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(*customer);
  } else {
    if (as_of.has_value()) session.PrintAsOf(*as_of);
    PrintCustomers(session, list);
  }
  return kExitOk;
}

int CustomersCreate(Session& session, const ParsedArgs& args) {
  for (const char* required : {"source", "external-id"}) {
    if (args.Get(required).empty()) {
      return session.UsageError(absl::InvalidArgumentError(
          absl::StrCat("--", required, " is required")));
    }
  }
  v1::CreateCustomerRequest request;
  v1::Customer* customer = request.mutable_customer();
  customer->set_data_source_uuid(args.Get("source"));
  customer->set_external_id(args.Get("external-id"));
  if (absl::Status s =
          SetCustomerFields(args, session.Now(), customer, nullptr);
      !s.ok()) {
    return session.UsageError(s);
  }
  return PrintCustomerFrom(
      session, [&](grpc::ClientContext* context, v1::Customer* response) {
        return session.customers().CreateCustomer(context, request, response);
      });
}

int CustomersGet(Session& session, const ParsedArgs& args) {
  v1::GetCustomerRequest request;
  request.set_uuid(args.positional()[0]);
  if (absl::Status s = ParseAsOf(args, session.Now(), &request); !s.ok()) {
    return session.UsageError(s);
  }
  return PrintCustomerFrom(
      session,
      [&](grpc::ClientContext* context, v1::Customer* response) {
        return session.customers().GetCustomer(context, request, response);
      },
      AsOf(request));
}

// The number of recent events `customers describe` shows.
constexpr int kDescribeEvents = 10;

int CustomersDescribe(Session& session, const ParsedArgs& args) {
  v1::GetCustomerRequest get;
  get.set_uuid(args.positional()[0]);
  if (absl::Status s = ParseAsOf(args, session.Now(), &get); !s.ok()) {
    return session.UsageError(s);
  }
  // The three calls ask about one instant: without --as-of, this "now".
  const bool as_of_now = !get.has_as_of();
  if (as_of_now) {
    absl::StatusOr<google::protobuf::Timestamp> now =
        ParseTimeFlag("as-of", "now", session.Now());
    if (!now.ok()) return session.UsageError(now.status());
    *get.mutable_as_of() = *now;
  }
  v1::Customer customer;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.customers().GetCustomer(context, get, &customer);
      })) {
    return rc;
  }
  v1::ListSubscriptionsRequest list_subscriptions;
  list_subscriptions.set_customer_uuid(customer.uuid());
  if (get.has_as_of()) *list_subscriptions.mutable_as_of() = get.as_of();
  v1::ListSubscriptionsResponse subscriptions;
  if (int rc = FetchSubscriptions(session, Paging(), list_subscriptions,
                                  &subscriptions)) {
    return rc;
  }
  // Events come oldest first; keep the last kDescribeEvents.
  v1::ListSubscriptionEventsRequest list_events;
  list_events.set_customer_uuid(customer.uuid());
  if (get.has_as_of()) *list_events.mutable_as_of() = get.as_of();
  v1::ListSubscriptionEventsResponse events;
  if (int rc = FetchAllPages(
          session, Paging(), list_events,
          [&](grpc::ClientContext* context,
              const v1::ListSubscriptionEventsRequest& request,
              v1::ListSubscriptionEventsResponse* page) {
            return session.customers().ListSubscriptionEvents(context, request,
                                                              page);
          },
          [](v1::ListSubscriptionEventsResponse* response) {
            return response->mutable_events();
          },
          &events)) {
    return rc;
  }
  const int older = events.events_size() - kDescribeEvents;
  if (older > 0) events.mutable_events()->DeleteSubrange(0, older);
  if (session.json()) {
    auto json_list = [](const auto& messages) {
      return absl::StrJoin(messages, ",", [](std::string* out, const auto& m) {
        out->append(Session::ToJson(m));
      });
    };
    std::printf("{\"customer\":%s,\"subscriptions\":[%s],\"recentEvents\":[%s]}\n",
                Session::ToJson(customer).c_str(),
                json_list(subscriptions.subscriptions()).c_str(),
                json_list(events.events()).c_str());
    return kExitOk;
  }
  session.PrintAsOf(as_of_now ? nullptr : AsOf(get));
  std::vector<std::string> external_ids;
  for (const v1::CustomerExternalId& id : customer.external_ids()) {
    external_ids.push_back(
        absl::StrCat(id.external_id(), " (", id.data_source_uuid(), ")"));
  }
  Table fields({"FIELD", "VALUE"});
  fields.AddRow({"Customer", customer.uuid()});
  fields.AddRow({"External ids", absl::StrJoin(external_ids, ", ")});
  fields.AddRow({"Name", customer.name()});
  fields.AddRow({"Email", customer.email()});
  fields.AddRow({"Status", CustomerStatusName(customer.status())});
  fields.AddRow({"Reason", customer.status_reason()});
  fields.AddRow({"MRR", FormatMoneyList(customer.mrr())});
  fields.AddRow({"Tags", absl::StrJoin(customer.tags(), ", ")});
  fields.Print(stdout);
  std::printf("\nSubscriptions\n");
  PrintSubscriptionTable(subscriptions.subscriptions());
  std::printf("\nRecent events (the last %d)\n", kDescribeEvents);
  PrintEventTable(events.events());
  return kExitOk;
}

int CustomersList(Session& session, const ParsedArgs& args) {
  absl::StatusOr<Paging> paging = ParsePaging(args);
  if (!paging.ok()) return session.UsageError(paging.status());
  v1::ListCustomersRequest request;
  request.set_data_source_uuid(args.Get("source"));
  request.set_external_id(args.Get("external-id"));
  request.set_email(args.Get("email"));
  if (absl::Status s = ParseAsOf(args, session.Now(), &request); !s.ok()) {
    return session.UsageError(s);
  }
  if (args.Has("status")) {
    auto status = ParseCustomerStatus("status", args.Get("status"));
    if (!status.ok()) return session.UsageError(status.status());
    request.set_status(*status);
  }
  v1::ListCustomersResponse all;
  if (int rc = FetchAllPages(
          session, *paging, request,
          [&](grpc::ClientContext* context,
              const v1::ListCustomersRequest& page_request,
              v1::ListCustomersResponse* page) {
            return session.customers().ListCustomers(context, page_request,
                                                     page);
          },
          [](v1::ListCustomersResponse* response) {
            return response->mutable_customers();
          },
          &all)) {
    return rc;
  }
  session.PrintAsOf(AsOf(request));
  PrintCustomers(session, all);
  session.PrintNextPage(all.next_page_token());
  return kExitOk;
}

int CustomersUpdate(Session& session, const ParsedArgs& args) {
  v1::UpdateCustomerRequest request;
  request.mutable_customer()->set_uuid(args.positional()[0]);
  if (absl::Status s =
          SetCustomerFields(args, session.Now(), request.mutable_customer(),
                            request.mutable_update_mask());
      !s.ok()) {
    return session.UsageError(s);
  }
  if (request.update_mask().paths().empty()) {
    return session.UsageError(absl::InvalidArgumentError(
        "nothing to update: give at least one field flag, e.g. --email=..."));
  }
  return PrintCustomerFrom(
      session, [&](grpc::ClientContext* context, v1::Customer* response) {
        return session.customers().UpdateCustomer(context, request, response);
      });
}

int CustomersDelete(Session& session, const ParsedArgs& args) {
  v1::DeleteCustomerRequest request;
  request.set_uuid(args.positional()[0]);
  google::protobuf::Empty empty;
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.customers().DeleteCustomer(context, request, &empty);
      })) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(empty);
  } else {
    std::printf("customer %s deleted\n", request.uuid().c_str());
  }
  return kExitOk;
}

int CustomersMerge(Session& session, const ParsedArgs& args) {
  for (const char* required : {"from", "into"}) {
    if (args.Get(required).empty()) {
      return session.UsageError(absl::InvalidArgumentError(
          absl::StrCat("--", required, " is required")));
    }
  }
  v1::MergeCustomersRequest request;
  request.set_from_customer_uuid(args.Get("from"));
  request.set_into_customer_uuid(args.Get("into"));
  return PrintCustomerFrom(
      session, [&](grpc::ClientContext* context, v1::Customer* response) {
        return session.customers().MergeCustomers(context, request, response);
      });
}

int CustomersTag(Session& session, const ParsedArgs& args) {
  v1::AddCustomerTagsRequest request;
  request.set_customer_uuid(args.positional()[0]);
  for (size_t i = 1; i < args.positional().size(); ++i) {
    request.add_tags(args.positional()[i]);
  }
  return PrintCustomerFrom(
      session, [&](grpc::ClientContext* context, v1::Customer* response) {
        return session.customers().AddCustomerTags(context, request, response);
      });
}

int CustomersUntag(Session& session, const ParsedArgs& args) {
  v1::RemoveCustomerTagsRequest request;
  request.set_customer_uuid(args.positional()[0]);
  for (size_t i = 1; i < args.positional().size(); ++i) {
    request.add_tags(args.positional()[i]);
  }
  return PrintCustomerFrom(session, [&](grpc::ClientContext* context,
                                        v1::Customer* response) {
    return session.customers().RemoveCustomerTags(context, request, response);
  });
}

}  // namespace

std::vector<Command> CustomerCommands() {
  std::vector<Command> commands;
  std::vector<FlagSpec> create_flags = {
      {"source", "DATA_SOURCE_UUID", "The customer's data source (required)."},
      {"external-id", "ID", "The customer's id in that source (required)."}};
  for (FlagSpec& flag : CustomerFieldFlags()) create_flags.push_back(flag);
  commands.push_back(
      {"customers",
       "create",
       "",
       "Create a customer in a data source.",
       "The source and external id are unique together.",
       create_flags,
       0,
       0,
       {"recurrentctl customers create --source=ds_… --external-id=cus_001 "
        "--name=Ada --country=DE"},
       CustomersCreate});
  commands.push_back(
      {"customers",
       "get",
       "CUSTOMER_UUID",
       "Show a customer with its status now or at --as-of.",
       "",
       {{"as-of", "DATE", "Evaluate the status at DATE (may be future)."}},
       1,
       1,
       {"recurrentctl customers get cus_… --as-of=2025-03-01"},
       CustomersGet});
  commands.push_back(
      {"customers",
       "describe",
       "CUSTOMER_UUID",
       "Show a customer's status and reason, subscriptions and recent events.",
       "One view of GetCustomer, ListSubscriptions and the last events of "
       "ListSubscriptionEvents,\nall at the same instant (now or --as-of). "
       "--output=json prints {customer, subscriptions,\nrecentEvents}.",
       {{"as-of", "DATE", "Evaluate at DATE (may be future)."}},
       1,
       1,
       {"recurrentctl customers describe cus_… --as-of=2025-03-01"},
       CustomersDescribe});
  std::vector<FlagSpec> list_flags = {
      {"status", "STATUS", "lead, active, past-due or cancelled (at --as-of)."},
      {"as-of", "DATE", "Evaluate statuses at DATE (default now; may be future)."},
      {"source", "DATA_SOURCE_UUID", "Only customers of this data source."},
      {"email", "EMAIL", "Only customers with this email."},
      {"external-id", "ID", "Only the customer with this external id."}};
  for (FlagSpec& flag : PagingFlags()) list_flags.push_back(flag);
  commands.push_back(
      {"customers",
       "list",
       "",
       "List customers matching every filter given.",
       "Statuses (and --status) are evaluated now, or at --as-of.",
       list_flags,
       0,
       0,
       {"recurrentctl customers list --status=past-due --source=ds_…"},
       CustomersList});
  commands.push_back(
      {"customers",
       "update",
       "CUSTOMER_UUID",
       "Update the fields given as flags (an empty value clears a field).",
       "Only the fields named by flags are changed (the update mask).",
       CustomerFieldFlags(),
       1,
       1,
       {"recurrentctl customers update cus_… --email=ada@example.com "
        "--city=Berlin"},
       CustomersUpdate});
  commands.push_back({"customers",
                      "delete",
                      "CUSTOMER_UUID",
                      "Delete a customer with its invoices and subscriptions.",
                      "",
                      {},
                      1,
                      1,
                      {"recurrentctl customers delete cus_…"},
                      CustomersDelete});
  commands.push_back(
      {"customers",
       "merge",
       "",
       "Merge one customer into another; --from is deleted.",
       "External ids, tags, invoices and subscriptions of --from move to "
       "--into.",
       {{"from", "CUSTOMER_UUID", "The customer merged away (required)."},
        {"into", "CUSTOMER_UUID", "The customer kept (required)."}},
       0,
       0,
       {"recurrentctl customers merge --from=cus_a… --into=cus_b…"},
       CustomersMerge});
  commands.push_back({"customers",
                      "tag",
                      "CUSTOMER_UUID TAG...",
                      "Add tags to a customer (idempotent).",
                      "",
                      {},
                      2,
                      Command::kUnlimited,
                      {"recurrentctl customers tag cus_… vip enterprise"},
                      CustomersTag});
  commands.push_back({"customers",
                      "untag",
                      "CUSTOMER_UUID TAG...",
                      "Remove tags from a customer (idempotent).",
                      "",
                      {},
                      2,
                      Command::kUnlimited,
                      {"recurrentctl customers untag cus_… vip"},
                      CustomersUntag});
  return commands;
}

}  // namespace recurrent::cli
