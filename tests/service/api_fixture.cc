#include "tests/service/api_fixture.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/convert.h"

namespace recurrent::service::testing {

absl::Time T(const std::string& text) {
  absl::Time t;
  std::string error;
  const std::string full = text.size() == 10 ? text + "T00:00:00" : text;
  if (!absl::ParseTime("%Y-%m-%dT%H:%M:%S", full, absl::UTCTimeZone(), &t,
                       &error)) {
    ADD_FAILURE() << "bad time " << text << ": " << error;
  }
  return t;
}

std::string ApiTest::CreateSource(const std::string& name, int days) {
  grpc::ClientContext context;
  v1::CreateDataSourceRequest request;
  request.set_name(name);
  v1::DataSource source;
  grpc::Status status = settings_->CreateDataSource(&context, request, &source);
  EXPECT_TRUE(status.ok()) << status.error_message();
  if (days > 0) SetAutoChurn(source.uuid(), days);
  return source.uuid();
}

void ApiTest::SetAutoChurn(const std::string& source, int days) {
  grpc::ClientContext context;
  v1::UpdateSettingsRequest request;
  request.set_data_source_uuid(source);
  request.mutable_past_due_handling()->set_mode(v1::PAST_DUE_MODE_AUTO_CHURN);
  request.mutable_past_due_handling()->set_auto_churn_after_days(days);
  v1::UpdateSettingsResponse response;
  grpc::Status status = settings_->UpdateSettings(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

void ApiTest::SetKeep(const std::string& source) {
  grpc::ClientContext context;
  v1::UpdateSettingsRequest request;
  request.set_data_source_uuid(source);
  request.mutable_past_due_handling()->set_mode(v1::PAST_DUE_MODE_KEEP);
  v1::UpdateSettingsResponse response;
  grpc::Status status = settings_->UpdateSettings(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

grpc::Status ApiTest::Merge(const std::string& from, const std::string& into) {
  grpc::ClientContext context;
  v1::MergeCustomersRequest request;
  request.set_from_customer_uuid(from);
  request.set_into_customer_uuid(into);
  v1::Customer out;
  return customers_->MergeCustomers(&context, request, &out);
}

grpc::Status ApiTest::DeleteInvoice(const std::string& invoice_uuid) {
  grpc::ClientContext context;
  v1::DeleteInvoiceRequest request;
  request.set_uuid(invoice_uuid);
  google::protobuf::Empty out;
  return invoices_->DeleteInvoice(&context, request, &out);
}

std::string ApiTest::CreateCustomer(const std::string& source,
                                    const std::string& external_id) {
  grpc::ClientContext context;
  v1::CreateCustomerRequest request;
  request.mutable_customer()->set_data_source_uuid(source);
  request.mutable_customer()->set_external_id(external_id);
  v1::Customer customer;
  grpc::Status status =
      customers_->CreateCustomer(&context, request, &customer);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return customer.uuid();
}

v1::Invoice ApiTest::MakeInvoice(const InvoiceSpec& spec) {
  v1::Invoice invoice;
  invoice.set_external_id(spec.external_id);
  invoice.set_data_source_uuid(spec.data_source_uuid);
  *invoice.mutable_date() = TimeToProto(spec.start);
  if (spec.due) *invoice.mutable_due_date() = TimeToProto(*spec.due);
  invoice.set_currency("EUR");
  v1::LineItem* item = invoice.add_line_items();
  item->set_external_id(spec.external_id + "-li");
  v1::LineItemType type = v1::LINE_ITEM_TYPE_SUBSCRIPTION;
  if (spec.line_item_type == "TRIAL") type = v1::LINE_ITEM_TYPE_TRIAL;
  if (spec.line_item_type == "ONE_TIME") type = v1::LINE_ITEM_TYPE_ONE_TIME;
  item->set_type(type);
  item->set_subscription_external_id(spec.subscription);
  item->set_plan_external_id("monthly");
  *item->mutable_service_period_start() = TimeToProto(spec.start);
  *item->mutable_service_period_end() = TimeToProto(spec.end);
  item->set_amount_in_cents(spec.amount);
  item->set_quantity(1);
  int n = 0;
  for (const Payment& payment : spec.payments) {
    v1::Transaction* tx = invoice.add_transactions();
    tx->set_external_id(absl::StrCat(spec.external_id, "-tx", n++));
    tx->set_type(payment.refund ? v1::TRANSACTION_TYPE_REFUND
                                : v1::TRANSACTION_TYPE_PAYMENT);
    tx->set_result(payment.failed ? v1::TRANSACTION_RESULT_FAILED
                                  : v1::TRANSACTION_RESULT_SUCCESSFUL);
    *tx->mutable_date() = TimeToProto(payment.at);
    if (payment.amount) tx->set_amount_in_cents(*payment.amount);
  }
  return invoice;
}

std::vector<InvoiceSpec> ApiTest::Monthly(const std::string& subscription,
                                          absl::Time first, int months) {
  std::vector<InvoiceSpec> specs;
  absl::CivilDay day = absl::ToCivilDay(first, absl::UTCTimeZone());
  for (int i = 0; i < months; ++i) {
    const absl::CivilMonth month = absl::CivilMonth(day) + i;
    InvoiceSpec spec;
    spec.external_id =
        absl::StrCat(subscription, "-", absl::FormatCivilTime(month));
    spec.subscription = subscription;
    spec.start = absl::FromCivil(absl::CivilDay(month), absl::UTCTimeZone());
    spec.end = absl::FromCivil(absl::CivilDay(month + 1), absl::UTCTimeZone());
    spec.due = spec.start;
    spec.payments = {Payment{spec.start}};
    specs.push_back(spec);
  }
  return specs;
}

grpc::Status ApiTest::Import(const std::string& customer,
                             const std::vector<InvoiceSpec>& specs,
                             v1::ImportInvoicesResponse* response) {
  grpc::ClientContext context;
  v1::ImportInvoicesRequest request;
  request.set_customer_uuid(customer);
  for (const InvoiceSpec& spec : specs) {
    *request.add_invoices() = MakeInvoice(spec);
  }
  v1::ImportInvoicesResponse ignored;
  return invoices_->ImportInvoices(&context, request,
                                   response ? response : &ignored);
}

void ApiTest::MustImport(const std::string& customer,
                         const std::vector<InvoiceSpec>& specs) {
  grpc::Status status = Import(customer, specs);
  ASSERT_TRUE(status.ok()) << status.error_message();
}

std::vector<v1::Subscription> ApiTest::Subscriptions(
    const std::string& customer, absl::Time as_of) {
  v1::ListSubscriptionsRequest request;
  request.set_customer_uuid(customer);
  *request.mutable_as_of() = TimeToProto(as_of);
  std::vector<v1::Subscription> all;
  do {  // every page
    grpc::ClientContext context;
    v1::ListSubscriptionsResponse response;
    grpc::Status status =
        customers_->ListSubscriptions(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!status.ok()) break;
    all.insert(all.end(), response.subscriptions().begin(),
               response.subscriptions().end());
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  return all;
}

v1::Subscription ApiTest::Subscription(const std::string& customer,
                                       absl::Time as_of) {
  std::vector<v1::Subscription> subs = Subscriptions(customer, as_of);
  EXPECT_EQ(subs.size(), 1u) << "at " << absl::FormatTime(as_of);
  return subs.empty() ? v1::Subscription() : subs[0];
}

v1::SubscriptionStatus ApiTest::StatusAt(const std::string& customer,
                                         absl::Time as_of) {
  return Subscription(customer, as_of).status();
}

v1::Customer ApiTest::GetCustomer(const std::string& customer,
                                  std::optional<absl::Time> as_of) {
  grpc::ClientContext context;
  v1::GetCustomerRequest request;
  request.set_uuid(customer);
  if (as_of) *request.mutable_as_of() = TimeToProto(*as_of);
  v1::Customer response;
  grpc::Status status = customers_->GetCustomer(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

std::vector<v1::SubscriptionEvent> ApiTest::Events(const std::string& customer,
                                                   absl::Time as_of) {
  std::vector<v1::SubscriptionEvent> events;
  v1::ListSubscriptionEventsRequest request;
  request.set_customer_uuid(customer);
  *request.mutable_as_of() = TimeToProto(as_of);
  request.set_page_size(7);  // exercises paging
  for (int pages = 0; pages < 100; ++pages) {
    grpc::ClientContext context;
    v1::ListSubscriptionEventsResponse response;
    grpc::Status status =
        customers_->ListSubscriptionEvents(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    events.insert(events.end(), response.events().begin(),
                  response.events().end());
    if (!status.ok() || response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  return events;
}

std::vector<std::string> ApiTest::EventStrings(const std::string& customer,
                                               absl::Time as_of) {
  std::vector<std::string> out;
  for (const v1::SubscriptionEvent& event : Events(customer, as_of)) {
    absl::string_view name = v1::SubscriptionEventType_Name(event.type());
    name.remove_prefix(std::string("SUBSCRIPTION_EVENT_TYPE_").size());
    out.push_back(absl::StrCat(
        name, "@",
        absl::FormatTime("%Y-%m-%dT%H:%M:%S",
                         absl::FromUnixSeconds(event.occurred_at().seconds()),
                         absl::UTCTimeZone())));
  }
  return out;
}

std::vector<v1::Invoice> ApiTest::ListInvoices(const std::string& customer) {
  grpc::ClientContext context;
  v1::ListInvoicesRequest request;
  request.set_customer_uuid(customer);
  request.set_page_size(1000);
  v1::ListInvoicesResponse response;
  grpc::Status status = invoices_->ListInvoices(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return {response.invoices().begin(), response.invoices().end()};
}

grpc::Status ApiTest::Cancel(const std::string& subscription, absl::Time at,
                             v1::Subscription* out) {
  grpc::ClientContext context;
  v1::CancelSubscriptionRequest request;
  request.set_subscription_uuid(subscription);
  *request.mutable_cancelled_at() = TimeToProto(at);
  v1::Subscription ignored;
  return customers_->CancelSubscription(&context, request,
                                        out ? out : &ignored);
}

grpc::Status ApiTest::Pay(const std::string& invoice_uuid,
                          const std::string& external_id, absl::Time at,
                          std::optional<int64_t> amount) {
  grpc::ClientContext context;
  v1::AddTransactionRequest request;
  request.set_invoice_uuid(invoice_uuid);
  v1::Transaction* tx = request.mutable_transaction();
  tx->set_external_id(external_id);
  tx->set_type(v1::TRANSACTION_TYPE_PAYMENT);
  tx->set_result(v1::TRANSACTION_RESULT_SUCCESSFUL);
  *tx->mutable_date() = TimeToProto(at);
  if (amount) tx->set_amount_in_cents(*amount);
  v1::Transaction response;
  return invoices_->AddTransaction(&context, request, &response);
}

std::vector<std::string> ApiTest::ListCustomerUuids(v1::CustomerStatus status) {
  grpc::ClientContext context;
  v1::ListCustomersRequest request;
  request.set_status(status);
  request.set_page_size(1000);
  v1::ListCustomersResponse response;
  grpc::Status grpc_status =
      customers_->ListCustomers(&context, request, &response);
  EXPECT_TRUE(grpc_status.ok()) << grpc_status.error_message();
  std::vector<std::string> uuids;
  for (const v1::Customer& c : response.customers()) uuids.push_back(c.uuid());
  return uuids;
}

}  // namespace recurrent::service::testing
