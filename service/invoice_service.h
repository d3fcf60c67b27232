// InvoiceService: invoices with their line items and transactions.
#ifndef RECURRENT_SERVICE_INVOICE_SERVICE_H_
#define RECURRENT_SERVICE_INVOICE_SERVICE_H_

#include "recurrent/v1/invoice.grpc.pb.h"
#include "service/dispatch.h"

namespace recurrent::service {

// Thread-safe. See protos/recurrent/v1/invoice.proto for the contract.
class InvoiceServiceImpl final : public v1::InvoiceService::CallbackService {
 public:
  explicit InvoiceServiceImpl(const ServiceEnv& env) : env_(env) {}

  grpc::ServerUnaryReactor* ImportInvoices(
      grpc::CallbackServerContext* context,
      const v1::ImportInvoicesRequest* request,
      v1::ImportInvoicesResponse* response) override;
  grpc::ServerUnaryReactor* GetInvoice(grpc::CallbackServerContext* context,
                                       const v1::GetInvoiceRequest* request,
                                       v1::Invoice* response) override;
  grpc::ServerUnaryReactor* ListInvoices(
      grpc::CallbackServerContext* context,
      const v1::ListInvoicesRequest* request,
      v1::ListInvoicesResponse* response) override;
  grpc::ServerUnaryReactor* DeleteInvoice(
      grpc::CallbackServerContext* context,
      const v1::DeleteInvoiceRequest* request,
      google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* AddTransaction(
      grpc::CallbackServerContext* context,
      const v1::AddTransactionRequest* request,
      v1::Transaction* response) override;

 private:
  const ServiceEnv env_;
};

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_INVOICE_SERVICE_H_
