// recurrentctl subscriptions ... and events: the subscription part of
// CustomerService.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "clients/cli/command.h"
#include "clients/cli/table.h"
#include "clients/cli/values.h"
#include "clients/cli/views.h"

namespace recurrent::cli {

int FetchSubscriptions(Session& session, const Paging& paging,
                       const v1::ListSubscriptionsRequest& request,
                       v1::ListSubscriptionsResponse* all) {
  return FetchAllPages(
      session, paging, request,
      [&](grpc::ClientContext* context,
          const v1::ListSubscriptionsRequest& page_request,
          v1::ListSubscriptionsResponse* page) {
        return session.customers().ListSubscriptions(context, page_request,
                                                     page);
      },
      [](v1::ListSubscriptionsResponse* response) {
        return response->mutable_subscriptions();
      },
      all);
}

namespace {

int SubscriptionsList(Session& session, const ParsedArgs& args) {
  absl::StatusOr<Paging> paging = ParsePaging(args);
  if (!paging.ok()) return session.UsageError(paging.status());
  v1::ListSubscriptionsRequest request;
  request.set_customer_uuid(args.positional()[0]);
  if (absl::Status s = ParseAsOf(args, session.Now(), &request); !s.ok()) {
    return session.UsageError(s);
  }
  v1::ListSubscriptionsResponse all;
  if (int rc = FetchSubscriptions(session, *paging, request, &all)) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(all);
    return kExitOk;
  }
  session.PrintAsOf(AsOf(request));
  PrintSubscriptionTable(all.subscriptions());
  session.PrintNextPage(all.next_page_token());
  return kExitOk;
}

int SubscriptionsCancel(Session& session, const ParsedArgs& args) {
  v1::CancelSubscriptionRequest request;
  request.set_subscription_uuid(args.positional()[0]);
  if (args.Has("at")) {
    auto at = ParseTimeFlag("at", args.Get("at"), session.Now());
    if (!at.ok()) return session.UsageError(at.status());
    *request.mutable_cancelled_at() = *at;
  }
  v1::ListSubscriptionsResponse list;
  v1::Subscription* subscription = list.add_subscriptions();
  if (int rc = session.Rpc([&](grpc::ClientContext* context) {
        return session.customers().CancelSubscription(context, request,
                                                      subscription);
      })) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(*subscription);
  } else {
    PrintSubscriptionTable(list.subscriptions());
  }
  return kExitOk;
}

int Events(Session& session, const ParsedArgs& args) {
  absl::StatusOr<Paging> paging = ParsePaging(args);
  if (!paging.ok()) return session.UsageError(paging.status());
  v1::ListSubscriptionEventsRequest request;
  if (!args.positional().empty()) {
    request.set_customer_uuid(args.positional()[0]);
  }
  request.set_data_source_uuid(args.Get("source"));
  if (request.customer_uuid().empty() && request.data_source_uuid().empty()) {
    return session.UsageError(absl::InvalidArgumentError(
        "give a CUSTOMER_UUID, --source=DATA_SOURCE_UUID, or both"));
  }
  if (absl::Status s = ParseAsOf(args, session.Now(), &request); !s.ok()) {
    return session.UsageError(s);
  }
  v1::ListSubscriptionEventsResponse all;
  if (int rc = FetchAllPages(
          session, *paging, request,
          [&](grpc::ClientContext* context,
              const v1::ListSubscriptionEventsRequest& page_request,
              v1::ListSubscriptionEventsResponse* page) {
            return session.customers().ListSubscriptionEvents(
                context, page_request, page);
          },
          [](v1::ListSubscriptionEventsResponse* response) {
            return response->mutable_events();
          },
          &all)) {
    return rc;
  }
  if (session.json()) {
    session.PrintJson(all);
    return kExitOk;
  }
  session.PrintAsOf(AsOf(request));
  PrintEventTable(all.events());
  session.PrintNextPage(all.next_page_token());
  return kExitOk;
}

}  // namespace

std::vector<Command> SubscriptionCommands() {
  std::vector<Command> commands;
  std::vector<FlagSpec> list_flags = {
      {"as-of", "DATE", "Evaluate at DATE (default now)."}};
  for (FlagSpec& flag : PagingFlags()) list_flags.push_back(flag);
  commands.push_back(
      {"subscriptions",
       "list",
       "CUSTOMER_UUID",
       "List a customer's subscriptions with their status now or at --as-of.",
       "Statuses are evaluated from the stored facts at the instant asked, "
       "which may be in\nthe future (projecting the known facts). In "
       "creation order; every page is fetched\nunless --limit is given.",
       list_flags,
       1,
       1,
       {"recurrentctl subscriptions list cus_… --as-of=2025-03-01"},
       SubscriptionsList});
  commands.push_back(
      {"subscriptions",
       "cancel",
       "SUBSCRIPTION_UUID",
       "Cancel a subscription explicitly.",
       "FAILED_PRECONDITION if the subscription has not started by then.",
       {{"at", "DATE", "When it is cancelled (default now; never future)."}},
       1,
       1,
       {"recurrentctl subscriptions cancel sub_… --at=2025-03-01"},
       SubscriptionsCancel});
  std::vector<FlagSpec> event_flags = {
      {"source", "DATA_SOURCE_UUID", "Only events of this data source."},
      {"as-of", "DATE", "Only events up to DATE (default now)."}};
  for (FlagSpec& flag : PagingFlags()) event_flags.push_back(flag);
  commands.push_back(
      {"events",
       "",
       "[CUSTOMER_UUID]",
       "List subscription events in time order.",
       "Events of a customer, of a data source (--source), or both "
       "combined.",
       event_flags,
       0,
       1,
       {"recurrentctl events cus_… --as-of=2025-06-01",
        "recurrentctl events --source=ds_… --limit=20"},
       Events});
  return commands;
}

}  // namespace recurrent::cli
