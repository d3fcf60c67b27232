#include "service/customer_service.h"

#include <string>
#include <vector>

#include "engine/status_macros.h"
#include "service/convert.h"
#include "service/requests.h"

namespace recurrent {
grpc::ServerUnaryReactor* CustomerServiceImpl::CreateCustomer(
    grpc::CallbackServerContext* context,
    const v1::CreateCustomerRequest* request, v1::Customer* response) {
  return Dispatch(context, *env_.executor, [this, request, response] {
    ASSIGN_OR_RETURN(persistence::Customer customer,
                     ParseCreateCustomer(*request));
    ASSIGN_OR_RETURN(persistence::Customer created,
                     env_.storage->CreateCustomer(customer, env_.clock->Now()));
    CustomerToProto(created, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::GetCustomer(
    grpc::CallbackServerContext* context,
    const v1::GetCustomerRequest* request, v1::Customer* response) {
  return Dispatch(context, *env_.executor, [this, request, response] {
    RETURN_IF_ERROR(CheckId(request->uuid(), kCustomerPrefix, "uuid"));
    if (request->has_as_of()) {
      RETURN_IF_ERROR(TimeFromProto(request->as_of(), "as_of"));
    }
    // Until invoices land (issue 4) no customer has a subscription, so every
    // customer is a LEAD at every instant and the stored status is exact.
    ASSIGN_OR_RETURN(persistence::Customer customer,
                     env_.storage->GetCustomer(request->uuid()));
    CustomerToProto(customer, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::UpdateCustomer(
    grpc::CallbackServerContext* context,
    const v1::UpdateCustomerRequest* request, v1::Customer* response) {
  return Dispatch(context, *env_.executor, [this, request, response] {
    ASSIGN_OR_RETURN(CustomerUpdate update, ParseUpdateCustomer(*request));
    ASSIGN_OR_RETURN(
        persistence::Customer updated,
        env_.storage->UpdateCustomer(
            update.uuid,
            [&update](persistence::Customer& customer) {
              ApplyCustomerUpdate(update, customer);
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
  return Dispatch(context, *env_.executor, [this, request] {
    RETURN_IF_ERROR(CheckId(request->uuid(), kCustomerPrefix, "uuid"));
    return env_.storage->DeleteCustomer(request->uuid());
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::ListCustomers(
    grpc::CallbackServerContext* context,
    const v1::ListCustomersRequest* request,
    v1::ListCustomersResponse* response) {
  return Dispatch(context, *env_.executor, [this, request, response] {
    ASSIGN_OR_RETURN(persistence::CustomerFilter filter,
                     ParseCustomerFilter(*request));
    ASSIGN_OR_RETURN(persistence::PageRequest page_request,
                     ParsePage(request->page_size(), request->page_token()));
    if (!filter.data_source_uuid.empty()) {
      // An unknown source is an error, not an empty list.
      RETURN_IF_ERROR(env_.storage->GetDataSource(filter.data_source_uuid));
    }
    ASSIGN_OR_RETURN(persistence::Page<persistence::Customer> page,
                     env_.storage->ListCustomers(filter, page_request));
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
  return Dispatch(context, *env_.executor, [this, request, response] {
    RETURN_IF_ERROR(CheckId(request->from_customer_uuid(), kCustomerPrefix,
                            "from_customer_uuid"));
    RETURN_IF_ERROR(CheckId(request->into_customer_uuid(), kCustomerPrefix,
                            "into_customer_uuid"));
    if (request->from_customer_uuid() == request->into_customer_uuid()) {
      return InvalidField("into_customer_uuid",
                          "must differ from from_customer_uuid");
    }
    ASSIGN_OR_RETURN(persistence::Customer merged,
                     env_.storage->MergeCustomers(request->from_customer_uuid(),
                                                  request->into_customer_uuid(),
                                                  env_.clock->Now()));
    CustomerToProto(merged, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::AddCustomerTags(
    grpc::CallbackServerContext* context,
    const v1::AddCustomerTagsRequest* request, v1::Customer* response) {
  return Dispatch(context, *env_.executor, [this, request, response] {
    RETURN_IF_ERROR(
        CheckId(request->customer_uuid(), kCustomerPrefix, "customer_uuid"));
    ASSIGN_OR_RETURN(std::vector<std::string> tags, ParseTags(request->tags()));
    ASSIGN_OR_RETURN(persistence::Customer customer,
                     env_.storage->AddCustomerTags(request->customer_uuid(),
                                                   tags, env_.clock->Now()));
    CustomerToProto(customer, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* CustomerServiceImpl::RemoveCustomerTags(
    grpc::CallbackServerContext* context,
    const v1::RemoveCustomerTagsRequest* request, v1::Customer* response) {
  return Dispatch(context, *env_.executor, [this, request, response] {
    RETURN_IF_ERROR(
        CheckId(request->customer_uuid(), kCustomerPrefix, "customer_uuid"));
    ASSIGN_OR_RETURN(std::vector<std::string> tags, ParseTags(request->tags()));
    ASSIGN_OR_RETURN(persistence::Customer customer,
                     env_.storage->RemoveCustomerTags(request->customer_uuid(),
                                                      tags, env_.clock->Now()));
    CustomerToProto(customer, response);
    return absl::OkStatus();
  });
}

}  // namespace recurrent
