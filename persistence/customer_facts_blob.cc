#include "persistence/customer_facts_blob.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

namespace recurrent::persistence {
namespace {

constexpr char kFormatVersion = 1;

std::atomic<FactsBlobReads> facts_blob_reads{FactsBlobReads::kUse};

class BlobWriter {
 public:
  explicit BlobWriter(std::string* out) : out_(*out) {}

  void Unsigned(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void Signed(int64_t v) {
    Unsigned((static_cast<uint64_t>(v) << 1) ^
             static_cast<uint64_t>(v >> 63));
  }
  void Bool(bool v) { Unsigned(v ? 1 : 0); }
  void String(absl::string_view s) {
    Unsigned(s.size());
    out_.append(s.data(), s.size());
  }
  void Time(absl::Time t) { Signed(absl::ToUnixMicros(t)); }
  void OptionalTime(const std::optional<absl::Time>& t) {
    Bool(t.has_value());
    if (t.has_value()) Time(*t);
  }

 private:
  std::string& out_;
};

class BlobReader {
 public:
  explicit BlobReader(absl::string_view in) : in_(in) {}

  bool ok() const { return ok_; }
  bool at_end() const { return in_.empty(); }

  uint64_t Unsigned() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return Fail();
      const uint8_t byte = static_cast<uint8_t>(in_.front());
      in_.remove_prefix(1);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    return Fail();
  }
  int64_t Signed() {
    const uint64_t v = Unsigned();
    return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  bool Bool() { return Unsigned() != 0; }
  std::string String() {
    const uint64_t n = Unsigned();
    if (n > in_.size()) {
      Fail();
      return std::string();
    }
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  absl::Time Time() { return absl::FromUnixMicros(Signed()); }
  std::optional<absl::Time> OptionalTime() {
    if (!Bool()) return std::nullopt;
    return Time();
  }
  // A count of items, each at least one byte: more than remain is corrupt.
  size_t Count() {
    const uint64_t n = Unsigned();
    if (n > in_.size()) return Fail();
    return static_cast<size_t>(n);
  }
  // An enumerator below `limit`.
  template <typename Enum>
  Enum Code(int limit) {
    const uint64_t v = Unsigned();
    if (v >= static_cast<uint64_t>(limit)) Fail();
    return static_cast<Enum>(v);
  }

 private:
  uint64_t Fail() {
    ok_ = false;
    in_ = absl::string_view();
    return 0;
  }

  absl::string_view in_;
  bool ok_ = true;
};

}  // namespace

void SetFactsBlobReads(FactsBlobReads mode) { facts_blob_reads = mode; }
FactsBlobReads GetFactsBlobReads() { return facts_blob_reads; }

std::vector<std::string> FactSources(const CustomerState& state) {
  std::vector<std::string> sources;
  for (const ExternalId& id : state.customer.external_ids) {
    sources.push_back(id.data_source_uuid);
  }
  for (const engine::Invoice& invoice : state.facts.invoices) {
    if (std::find(sources.begin(), sources.end(), invoice.data_source_uuid) ==
        sources.end()) {
      sources.push_back(invoice.data_source_uuid);
    }
  }
  std::sort(sources.begin(), sources.end());
  sources.erase(std::unique(sources.begin(), sources.end()), sources.end());
  return sources;
}

std::string EncodeCustomerFacts(const CustomerState& state) {
  std::string out;
  out.reserve(256);
  out.push_back(kFormatVersion);
  BlobWriter w(&out);
  const Customer& customer = state.customer;
  w.Unsigned(customer.external_ids.size());
  for (const ExternalId& id : customer.external_ids) {
    w.String(id.data_source_uuid);
    w.String(id.external_id);
  }
  w.Unsigned(customer.tags.size());
  for (const std::string& tag : customer.tags) w.String(tag);
  w.Unsigned(state.facts.invoices.size());
  for (const engine::Invoice& invoice : state.facts.invoices) {
    w.String(invoice.data_source_uuid);
    w.String(invoice.external_id);
    w.String(invoice.currency);
    w.OptionalTime(invoice.due_date);
    w.Unsigned(invoice.line_items.size());
    for (const engine::LineItem& item : invoice.line_items) {
      w.Unsigned(static_cast<uint64_t>(item.type));
      w.String(item.subscription_external_id);
      w.Time(item.service_period_start);
      w.Time(item.service_period_end);
      w.Signed(item.amount_in_cents);
      w.Signed(item.tax_amount_in_cents);
      w.Bool(item.prorated);
    }
    w.Unsigned(invoice.transactions.size());
    for (const engine::Transaction& transaction : invoice.transactions) {
      w.Unsigned(static_cast<uint64_t>(transaction.type));
      w.Unsigned(static_cast<uint64_t>(transaction.result));
      w.Time(transaction.date);
      w.Bool(transaction.amount_in_cents.has_value());
      if (transaction.amount_in_cents.has_value()) {
        w.Signed(*transaction.amount_in_cents);
      }
    }
  }
  w.Unsigned(state.facts.cancellations.size());
  for (const engine::Cancellation& cancellation : state.facts.cancellations) {
    w.String(cancellation.data_source_uuid);
    w.String(cancellation.subscription_external_id);
    w.Time(cancellation.cancelled_at);
  }
  return out;
}

absl::Status DecodeCustomerFacts(absl::string_view blob, CustomerState& state) {
  if (blob.empty() || blob.front() != kFormatVersion) {
    return absl::DataLossError(
        "customer facts blob: unknown format (stored by a newer version?)");
  }
  BlobReader r(blob.substr(1));
  Customer& customer = state.customer;
  customer.external_ids.clear();
  customer.external_ids.resize(r.Count());
  for (ExternalId& id : customer.external_ids) {
    id.data_source_uuid = r.String();
    id.external_id = r.String();
  }
  customer.tags.clear();
  customer.tags.resize(r.Count());
  for (std::string& tag : customer.tags) tag = r.String();
  std::vector<engine::Invoice>& invoices = state.facts.invoices;
  invoices.clear();
  invoices.resize(r.Count());
  for (engine::Invoice& invoice : invoices) {
    invoice.data_source_uuid = r.String();
    invoice.external_id = r.String();
    invoice.currency = r.String();
    invoice.due_date = r.OptionalTime();
    invoice.line_items.resize(r.Count());
    for (engine::LineItem& item : invoice.line_items) {
      item.type = r.Code<engine::LineItemType>(3);
      item.subscription_external_id = r.String();
      item.service_period_start = r.Time();
      item.service_period_end = r.Time();
      item.amount_in_cents = r.Signed();
      item.tax_amount_in_cents = r.Signed();
      item.prorated = r.Bool();
    }
    invoice.transactions.resize(r.Count());
    for (engine::Transaction& transaction : invoice.transactions) {
      transaction.type = r.Code<engine::TransactionType>(2);
      transaction.result = r.Code<engine::TransactionResult>(2);
      transaction.date = r.Time();
      if (r.Bool()) {
        transaction.amount_in_cents = r.Signed();
      } else {
        transaction.amount_in_cents.reset();
      }
    }
  }
  std::vector<engine::Cancellation>& cancellations = state.facts.cancellations;
  cancellations.clear();
  cancellations.resize(r.Count());
  for (engine::Cancellation& cancellation : cancellations) {
    cancellation.data_source_uuid = r.String();
    cancellation.subscription_external_id = r.String();
    cancellation.cancelled_at = r.Time();
  }
  if (!r.ok() || !r.at_end()) {
    return absl::DataLossError("customer facts blob: malformed");
  }
  if (customer.external_ids.empty()) {
    customer.data_source_uuid.clear();
    customer.external_id.clear();
  } else {
    customer.data_source_uuid = customer.external_ids.front().data_source_uuid;
    customer.external_id = customer.external_ids.front().external_id;
  }
  return absl::OkStatus();
}

}  // namespace recurrent::persistence
