// A customer's facts blob: the rows of one customer that its evaluation
// reads and that change only when facts, external ids or tags are written
// (its external ids, user tags, invoices with their line items and
// transactions, explicit cancellations), in one compact binary value that
// both backends store beside the rows (table customer_facts), so that
// LoadCustomerState reads them with one statement instead of six.
//
// The blob is a copy of those rows, never a source of truth: the backends'
// triggers drop a customer's blob whenever a row it mirrors is written
// (any statement, cascades included) and mark the customer stale; the
// write transaction rebuilds the blobs of its stale customers from the rows
// just before it commits (sqlite_customer_state.h, postgres_customer_state.h).
// A customer without a blob (a database migrated before blobs, or a stale
// one inside the writing transaction) is read from its rows.
//
// A storage format only: it holds no rule. Integers are varints (zigzag
// for signed values), times microseconds since the Unix epoch (as the rows
// store them), strings length-prefixed. The first byte is the format
// version; a blob of an unknown version reads as kDataLoss, as does a
// truncated or malformed one.
#ifndef RECURRENT_PERSISTENCE_CUSTOMER_FACTS_BLOB_H_
#define RECURRENT_PERSISTENCE_CUSTOMER_FACTS_BLOB_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "persistence/records.h"

namespace recurrent::persistence {

// The blob of `state`'s customer.external_ids, customer.tags and facts.
std::string EncodeCustomerFacts(const CustomerState& state);

// Fills `state`'s customer.external_ids (and from the first one
// customer.data_source_uuid and customer.external_id), customer.tags and
// facts from `blob`, replacing what they held. kDataLoss if `blob` is not
// one EncodeCustomerFacts wrote.
absl::Status DecodeCustomerFacts(absl::string_view blob, CustomerState& state);

// The sources of `state`'s external ids and invoices (those whose
// settings its evaluation reads), sorted, unique.
std::vector<std::string> FactSources(const CustomerState& state);

// How both backends' LoadCustomerState use the blobs, process-wide:
// kUse (the default) reads a customer's blob when it has one and its rows
// otherwise; kIgnore always reads the rows; kRequire fails (kInternal) for
// a customer without a blob. For the tests that check the blobs against
// the rows (tests/persistence/facts_blob_conformance_test.cc) and for A/B
// measurements; never changed while serving.
enum class FactsBlobReads { kUse, kIgnore, kRequire };
void SetFactsBlobReads(FactsBlobReads mode);
FactsBlobReads GetFactsBlobReads();

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_CUSTOMER_FACTS_BLOB_H_
