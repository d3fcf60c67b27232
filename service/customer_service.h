// CustomerService: customers, their tags, subscriptions and events.
#ifndef RECURRENT_SERVICE_CUSTOMER_SERVICE_H_
#define RECURRENT_SERVICE_CUSTOMER_SERVICE_H_

#include "recurrent/v1/customer.grpc.pb.h"
#include "service/dispatch.h"

namespace recurrent::service {

// Thread-safe. See protos/recurrent/v1/customer.proto for the contract.
class CustomerServiceImpl final : public v1::CustomerService::CallbackService {
 public:
  explicit CustomerServiceImpl(const ServiceEnv& env) : env_(env) {}

  grpc::ServerUnaryReactor* CreateCustomer(
      grpc::CallbackServerContext* context,
      const v1::CreateCustomerRequest* request,
      v1::Customer* response) override;
  grpc::ServerUnaryReactor* GetCustomer(grpc::CallbackServerContext* context,
                                        const v1::GetCustomerRequest* request,
                                        v1::Customer* response) override;
  grpc::ServerUnaryReactor* UpdateCustomer(
      grpc::CallbackServerContext* context,
      const v1::UpdateCustomerRequest* request,
      v1::Customer* response) override;
  grpc::ServerUnaryReactor* DeleteCustomer(
      grpc::CallbackServerContext* context,
      const v1::DeleteCustomerRequest* request,
      google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* ListCustomers(
      grpc::CallbackServerContext* context,
      const v1::ListCustomersRequest* request,
      v1::ListCustomersResponse* response) override;
  grpc::ServerUnaryReactor* MergeCustomers(
      grpc::CallbackServerContext* context,
      const v1::MergeCustomersRequest* request,
      v1::Customer* response) override;
  grpc::ServerUnaryReactor* AddCustomerTags(
      grpc::CallbackServerContext* context,
      const v1::AddCustomerTagsRequest* request,
      v1::Customer* response) override;
  grpc::ServerUnaryReactor* RemoveCustomerTags(
      grpc::CallbackServerContext* context,
      const v1::RemoveCustomerTagsRequest* request,
      v1::Customer* response) override;
  grpc::ServerUnaryReactor* ListSubscriptions(
      grpc::CallbackServerContext* context,
      const v1::ListSubscriptionsRequest* request,
      v1::ListSubscriptionsResponse* response) override;
  grpc::ServerUnaryReactor* CancelSubscription(
      grpc::CallbackServerContext* context,
      const v1::CancelSubscriptionRequest* request,
      v1::Subscription* response) override;
  grpc::ServerUnaryReactor* ListSubscriptionEvents(
      grpc::CallbackServerContext* context,
      const v1::ListSubscriptionEventsRequest* request,
      v1::ListSubscriptionEventsResponse* response) override;

 private:
  const ServiceEnv env_;
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_CUSTOMER_SERVICE_H_
