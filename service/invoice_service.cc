#include "service/invoice_service.h"

#include <vector>

#include "absl/time/time.h"
#include "common/ids.h"
#include "common/status_macros.h"
#include "service/convert.h"
#include "service/field_checks.h"
#include "service/invoice_requests.h"

namespace recurrent::service {

grpc::ServerUnaryReactor* InvoiceServiceImpl::ImportInvoices(
    grpc::CallbackServerContext* context,
    const v1::ImportInvoicesRequest* request,
    v1::ImportInvoicesResponse* response) {
  return Dispatch(context, env_, Role::kWriter, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(std::vector<persistence::Invoice> invoices,
                               ParseImportInvoices(*request));
    const absl::Time now = env_.clock->Now();
    RECURRENT_ASSIGN_OR_RETURN(
        std::vector<persistence::Invoice> stored,
        env_.store->ImportInvoices(request->customer_uuid(), invoices, now));
    for (const persistence::Invoice& invoice : stored) {
      InvoiceToProto(invoice, now, response->add_invoices());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* InvoiceServiceImpl::GetInvoice(
    grpc::CallbackServerContext* context, const v1::GetInvoiceRequest* request,
    v1::Invoice* response) {
  return Dispatch(context, env_, Role::kReader, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(const absl::Time as_of,
                               ParseGetInvoice(*request, env_.clock->Now()));
    RECURRENT_ASSIGN_OR_RETURN(persistence::Invoice invoice,
                               env_.store->GetInvoice(request->uuid()));
    InvoiceToProto(invoice, as_of, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* InvoiceServiceImpl::ListInvoices(
    grpc::CallbackServerContext* context,
    const v1::ListInvoicesRequest* request,
    v1::ListInvoicesResponse* response) {
  return Dispatch(context, env_, Role::kReader, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(const InvoiceQuery query,
                               ParseListInvoices(*request, env_.clock->Now()));
    RECURRENT_ASSIGN_OR_RETURN(
        persistence::Page<persistence::Invoice> page,
        env_.store->ListInvoices(query.filter, query.page, query.open_at));
    for (const persistence::Invoice& invoice : page.items) {
      InvoiceToProto(invoice, query.as_of, response->add_invoices());
    }
    response->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* InvoiceServiceImpl::DeleteInvoice(
    grpc::CallbackServerContext* context,
    const v1::DeleteInvoiceRequest* request,
    google::protobuf::Empty* response) {
  return Dispatch(
      context, env_, Role::kAdmin, [this, request](const Caller& caller) {
        RECURRENT_RETURN_IF_ERROR(
            CheckId(request->uuid(), common::kInvoiceIdPrefix, "uuid"));
        const absl::Time now = env_.clock->Now();
        RECURRENT_RETURN_IF_ERROR(
            env_.store->DeleteInvoice(request->uuid(), now));
        env_.access->Audit(caller, "InvoiceService.DeleteInvoice",
                           request->uuid(), now);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* InvoiceServiceImpl::AddTransaction(
    grpc::CallbackServerContext* context,
    const v1::AddTransactionRequest* request, v1::Transaction* response) {
  return Dispatch(context, env_, Role::kWriter, [this, request, response] {
    RECURRENT_ASSIGN_OR_RETURN(persistence::Transaction transaction,
                               ParseAddTransaction(*request));
    RECURRENT_ASSIGN_OR_RETURN(
        persistence::Transaction stored,
        env_.store->AddTransaction(request->invoice_uuid(), transaction,
                                   env_.clock->Now()));
    TransactionToProto(stored, response);
    return absl::OkStatus();
  });
}

}  // namespace recurrent::service
