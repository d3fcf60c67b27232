#include "service/customer_service.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "service/convert.h"
#include "service/customer_requests.h"
#include "service/field_checks.h"

namespace recurrent::service {
grpc::ServerUnaryReactor* CustomerServiceImpl::CreateCustomer(
    grpc::CallbackServerContext* context,
    const v1::CreateCustomerRequest* request, v1::Customer* response) {
  return Dispatch(context, env_, Role::kWriter, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(persistence::Customer customer,
                               ParseCreateCustomer(*request));
    RECURRENT_ASSIGN_OR_RETURN(
        persistence::Customer created,
        env_.store->CreateCustomer(customer, env_.clock->Now()));
    CustomerToProto(created, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::GetCustomer(
    grpc::CallbackServerContext* context, const v1::GetCustomerRequest* request,
    v1::Customer* response) {
  // Evaluated from the facts, so exact at any instant (the stored status,
  // used by ListCustomers, may lag by one re-evaluation interval), or the
  // same answer from the cache while nothing it depends on has changed; a
  // cached answer is served on gRPC's thread (it needs no storage).
  CustomerCache& cache = *env_.customer_cache;
  // The cache's answer for `uuid` at `t`, if it holds one and has heard of
  // other processes' writes until recently.
  auto cached = [this, &cache, response](const std::string& uuid,
                                         absl::Time t) {
    if (!env_.change_follower->UpToDate(env_.clock->Now())) {
      cache.CountBypass();
      return false;
    }
    return cache.Lookup(uuid, t, response);
  };
  auto from_cache = [this, request, cached]() -> std::optional<absl::Status> {
    if (request->has_as_of() ||
        !CheckId(request->uuid(), common::kCustomerIdPrefix, "uuid").ok() ||
        !cached(request->uuid(), env_.clock->Now())) {
      return std::nullopt;
    }
    return absl::OkStatus();
  };
  return DispatchWithFastPath(
      context, env_, Role::kReader, from_cache,
      [this, request, response, &cache, cached] {
        RECURRENT_ASSIGN_OR_RETURN(
            const CustomerQuery query,
            ParseGetCustomer(*request, env_.clock->Now()));
        const absl::Time as_of = query.as_of;
        // (Without as_of, the fast path has looked already.)
        if (request->has_as_of() && cached(query.uuid, as_of)) {
          return absl::OkStatus();
        }
        const CustomerCache::Ticket ticket = cache.BeginFill(query.uuid);
        RECURRENT_ASSIGN_OR_RETURN(
            const core::EvaluatedCustomer evaluated,
            env_.store->EvaluateCustomer(query.uuid, as_of));
        EvaluatedCustomerToProto(evaluated.customer, evaluated.evaluation,
                                 evaluated.status_reason, response);
        // Only answers for the present are kept: those are read again.
        if (!request->has_as_of()) {
          // Valid until the status or the MRR next changes.
          cache.Fill(ticket, *response, evaluated.sources, as_of,
                     evaluated.next_change_at.value_or(absl::InfiniteFuture()));
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::UpdateCustomer(
    grpc::CallbackServerContext* context,
    const v1::UpdateCustomerRequest* request, v1::Customer* response) {
  return Dispatch(context, env_, Role::kWriter, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(CustomerPatch patch,
                               ParseUpdateCustomer(*request));
    RECURRENT_ASSIGN_OR_RETURN(persistence::Customer updated,
                               env_.store->UpdateCustomer(
                                   patch.uuid,
                                   [&patch](persistence::Customer& customer) {
                                     ApplyCustomerPatch(patch, customer);
                                     return absl::OkStatus();
                                   },
                                   env_.clock->Now()));
    CustomerToProto(updated, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::DeleteCustomer(
    grpc::CallbackServerContext* context,
    const v1::DeleteCustomerRequest* request,
    google::protobuf::Empty* response) {
  return Dispatch(
      context, env_, Role::kAdmin, [this, request](const Caller& caller) {
        RECURRENT_RETURN_IF_ERROR(
            CheckId(request->uuid(), common::kCustomerIdPrefix, "uuid"));
        const absl::Time now = env_.clock->Now();
        RECURRENT_RETURN_IF_ERROR(
            env_.store->DeleteCustomer(request->uuid(), now));
        env_.access->Audit(caller, "CustomerService.DeleteCustomer",
                           request->uuid(), now);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::ListCustomers(
    grpc::CallbackServerContext* context,
    const v1::ListCustomersRequest* request,
    v1::ListCustomersResponse* response) {
  return Dispatch(context, env_, Role::kReader, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(const CustomersQuery query,
                               ParseListCustomers(*request, env_.clock->Now()));
    const persistence::CustomerFilter& filter = query.filter;
    const absl::Time as_of = query.as_of;
    const persistence::PageRequest& page_request = query.page;
    if (request->has_as_of()) {
      // Evaluated from the facts at as_of, as GetCustomer answers there.
      RECURRENT_ASSIGN_OR_RETURN(
          persistence::Page<core::EvaluatedCustomer> page,
          env_.store->ListCustomersAt(filter, as_of, page_request));
      for (const core::EvaluatedCustomer& customer : page.items) {
        EvaluatedCustomerToProto(customer.customer, customer.evaluation,
                                 customer.status_reason,
                                 response->add_customers());
      }
      response->set_next_page_token(page.next_page_token);
      return absl::OkStatus();
    }
    // Without as_of, the stored statuses (kept current by the re-evaluator)
    // are filtered in the database; the MRR at now is the stored rows'.
    RECURRENT_ASSIGN_OR_RETURN(
        persistence::Page<persistence::Customer> page,
        env_.store->ListCustomersWithMrr(filter, page_request, as_of));
    for (const persistence::Customer& customer : page.items) {
      CustomerToProto(customer, response->add_customers());
    }
    response->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::MergeCustomers(
    grpc::CallbackServerContext* context,
    const v1::MergeCustomersRequest* request, v1::Customer* response) {
  return Dispatch(
      context, env_, Role::kAdmin,
      [this, request, response](const Caller& caller) {
        RECURRENT_ASSIGN_OR_RETURN(const Merge merge,
                                   ParseMergeCustomers(*request));
        const absl::Time now = env_.clock->Now();
        RECURRENT_ASSIGN_OR_RETURN(
            persistence::Customer merged,
            env_.store->MergeCustomers(merge.from_customer_uuid,
                                       merge.into_customer_uuid, now));
        env_.access->Audit(caller, "CustomerService.MergeCustomers",
                           absl::StrCat(merge.from_customer_uuid, " -> ",
                                        merge.into_customer_uuid),
                           now);
        CustomerToProto(merged, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::AddCustomerTags(
    grpc::CallbackServerContext* context,
    const v1::AddCustomerTagsRequest* request, v1::Customer* response) {
  return Dispatch(context, env_, Role::kWriter, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(const TagChange change,
                               ParseAddCustomerTags(*request));
    RECURRENT_ASSIGN_OR_RETURN(
        persistence::Customer customer,
        env_.store->AddCustomerTags(change.customer_uuid, change.tags,
                                    env_.clock->Now()));
    CustomerToProto(customer, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::RemoveCustomerTags(
    grpc::CallbackServerContext* context,
    const v1::RemoveCustomerTagsRequest* request, v1::Customer* response) {
  return Dispatch(context, env_, Role::kWriter, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(const TagChange change,
                               ParseRemoveCustomerTags(*request));
    RECURRENT_ASSIGN_OR_RETURN(
        persistence::Customer customer,
        env_.store->RemoveCustomerTags(change.customer_uuid, change.tags,
                                       env_.clock->Now()));
    CustomerToProto(customer, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::ListSubscriptions(
    grpc::CallbackServerContext* context,
    const v1::ListSubscriptionsRequest* request,
    v1::ListSubscriptionsResponse* response) {
  return Dispatch(context, env_, Role::kReader, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(
        const SubscriptionsQuery query,
        ParseListSubscriptions(*request, env_.clock->Now()));
    RECURRENT_ASSIGN_OR_RETURN(
        const persistence::Page<core::EvaluatedSubscription> listed,
        env_.store->ListSubscriptions(query.customer_uuid, query.as_of,
                                      query.page));
    for (const core::EvaluatedSubscription& subscription : listed.items) {
      SubscriptionToProto(subscription.ref, subscription.evaluation,
                          subscription.mrr,
                          response->add_subscriptions());
    }
    response->set_next_page_token(listed.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::CancelSubscription(
    grpc::CallbackServerContext* context,
    const v1::CancelSubscriptionRequest* request, v1::Subscription* response) {
  return Dispatch(context, env_, Role::kWriter, [this, request, response] {
    const absl::Time now = env_.clock->Now();
    RECURRENT_ASSIGN_OR_RETURN(Cancellation cancellation,
                               ParseCancelSubscription(*request, now));
    RECURRENT_ASSIGN_OR_RETURN(
        const core::EvaluatedSubscription cancelled,
        env_.store->CancelSubscription(cancellation.subscription_uuid,
                                       cancellation.cancelled_at, now));
    SubscriptionToProto(cancelled.ref, cancelled.evaluation, cancelled.mrr,
                        response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::ListSubscriptionEvents(
    grpc::CallbackServerContext* context,
    const v1::ListSubscriptionEventsRequest* request,
    v1::ListSubscriptionEventsResponse* response) {
  return Dispatch(context, env_, Role::kReader, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(
        EventQuery query,
        ParseListSubscriptionEvents(*request, env_.clock->Now()));
    RECURRENT_ASSIGN_OR_RETURN(
        persistence::Page<persistence::SubscriptionEvent> page,
        env_.store->ListSubscriptionEvents(query.filter, query.page));
    for (const persistence::SubscriptionEvent& event : page.items) {
      EventToProto(event, response->add_events());
    }
    response->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

}  // namespace recurrent::service
