#include "persistence/postgres_customers.h"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/error_reason.h"
#include "common/status_macros.h"
#include "persistence/page_token.h"
#include "persistence/postgres_data_sources.h"
#include "persistence/row_codes.h"
#include "persistence/row_index.h"

namespace recurrent::persistence::postgres {
namespace {

// A customer row (without its external ids and tags until loaded).
using CustomerRow = CustomerRecord;

// Fills external ids (primary first) and tags of `rows` with one query
// each. The keys are passed as one bigint[] parameter, so the statements
// are prepared once whatever the number of rows.
absl::Status LoadExternalIdsAndTags(Connection& db,
                                    std::vector<CustomerRow>& rows) {
  if (rows.empty()) return absl::OkStatus();
  RowIndex<Customer> index = IndexRows<Customer>(
      rows, [](CustomerRow& row) -> Customer& { return row.customer; });
  std::unordered_map<int64_t, Customer*>& by_key = index.by_key;
  {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("SELECT e.customer_id, d.uuid, e.external_id"
                   " FROM customer_external_ids e"
                   " JOIN data_sources d ON d.id = e.data_source_id"
                   " WHERE e.customer_id = ANY($1::bigint[])"
                   " ORDER BY e.customer_id, e.position"));
    stmt.BindInt64Array(1, index.keys);
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
      if (!row) break;
      Customer& customer = *by_key.at(stmt.ColumnInt64(0));
      customer.external_ids.push_back(
          ExternalId{stmt.ColumnText(1), stmt.ColumnText(2)});
    }
  }
  {
    // COLLATE "C": tags in byte order, as SQLite's BINARY collation sorts
    // them, whatever the database's collation.
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt, db.Prepare("SELECT customer_id, tag FROM customer_tags"
                                   " WHERE customer_id = ANY($1::bigint[])"
                                   " ORDER BY customer_id, tag COLLATE \"C\""));
    stmt.BindInt64Array(1, index.keys);
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
      if (!row) break;
      by_key.at(stmt.ColumnInt64(0))->tags.push_back(stmt.ColumnText(1));
    }
  }
  for (CustomerRow& row : rows) {
    Customer& customer = row.customer;
    if (!customer.external_ids.empty()) {
      customer.data_source_uuid =
          customer.external_ids.front().data_source_uuid;
      customer.external_id = customer.external_ids.front().external_id;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<CustomerRow> LoadOne(Statement& stmt, Connection& db,
                                    absl::string_view name_for_error) {
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) return CustomerNotFound(name_for_error);
  std::vector<CustomerRow> rows;
  RECURRENT_ASSIGN_OR_RETURN(CustomerRow row, ReadCustomerRow(stmt));
  rows.push_back(std::move(row));
  stmt.Reset();
  RECURRENT_RETURN_IF_ERROR(LoadExternalIdsAndTags(db, rows));
  return std::move(rows.front());
}

// A ListCustomers query for the filters that are set: its SQL and the
// number of each filter's parameter (0: not in the SQL).
struct CustomerPageQuery {
  std::string sql;
  int source = 0;       // source uuid
  int external_id = 0;  // external id
  int email = 0;
  int status = 0;  // status code
};

// The SQL is assembled only from constant fragments (at most 16 variants,
// each cached as a prepared statement); values are always bound. $1 is the
// last key and $2 the limit; the filters that are set follow, numbered in
// the order source, external id, email, status. (PostgreSQL, unlike SQLite,
// refuses a statement whose parameter numbers skip one, so the unset
// filters take no number.)
CustomerPageQuery CustomerPageSql(const CustomerFilter& filter) {
  CustomerPageQuery query;
  int next = 3;
  if (!filter.data_source_uuid.empty()) query.source = next++;
  if (!filter.external_id.empty()) query.external_id = next++;
  if (!filter.email.empty()) query.email = next++;
  if (filter.status.has_value()) query.status = next++;
  const std::string source_key =
      query.source == 0
          ? std::string()
          : absl::StrCat("(SELECT id FROM data_sources WHERE uuid = $",
                         query.source, ")");
  const bool by_source =
      !filter.data_source_uuid.empty() && filter.external_id.empty();
  std::string& sql = query.sql;
  if (by_source) {
    // Walk the source's (data_source_id, customer_id) index from the
    // cursor, in key order, so a page reads about page_size entries. GROUP BY
    // folds customers with several external ids in the source (grouping by
    // c.id, the primary key, lets the select list name c's columns; c.id
    // equals e.customer_id). The cursor is repeated on c.id: PostgreSQL
    // does not carry a range through a join's equality, and without it a
    // merge join reads customers from the first key.
    sql = absl::StrCat("SELECT ", kCustomerColumns,
                       " FROM customer_external_ids e"
                       " JOIN customers c ON c.id = e.customer_id"
                       " WHERE e.data_source_id = ",
                       source_key, " AND e.customer_id > $1 AND c.id > $1");
  } else {
    sql = absl::StrCat("SELECT ", kCustomerColumns,
                       " FROM customers c WHERE c.id > $1");
    if (!filter.external_id.empty()) {
      // At most one row per source: a short list of keys.
      absl::StrAppend(&sql,
                      " AND c.id IN (SELECT customer_id FROM"
                      " customer_external_ids WHERE external_id = $",
                      query.external_id,
                      filter.data_source_uuid.empty()
                          ? ""
                          : absl::StrCat(" AND data_source_id = ", source_key),
                      ")");
    }
  }
  if (!filter.email.empty()) {
    absl::StrAppend(&sql, " AND c.email = $", query.email);
  }
  if (filter.status.has_value()) {
    absl::StrAppend(&sql, " AND c.status = $", query.status);
  }
  if (by_source) {
    absl::StrAppend(&sql, " GROUP BY c.id ORDER BY c.id");
  } else {
    absl::StrAppend(&sql, " ORDER BY c.id");
  }
  absl::StrAppend(&sql, " LIMIT $2");
  return query;
}

}  // namespace

absl::Status CustomerNotFound(absl::string_view uuid) {
  return common::ResourceNotFound("customer", uuid);
}

absl::StatusOr<int64_t> FindCustomerKey(Connection& db,
                                        absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt, db.Prepare("SELECT id FROM customers WHERE uuid = $1"));
  stmt.BindText(1, uuid);
  RECURRENT_ASSIGN_OR_RETURN(const bool found, stmt.Step());
  if (!found) return CustomerNotFound(uuid);
  return stmt.ColumnInt64(0);
}

absl::Status InsertCustomer(Connection& db, const Customer& customer) {
  RECURRENT_ASSIGN_OR_RETURN(const int64_t source_key,
                             FindDataSourceKey(db, customer.data_source_uuid));
  int64_t key = 0;
  {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("INSERT INTO customers (uuid, name, email, company, country,"
                   " state, city, zip, lead_created_at, free_trial_started_at,"
                   " status, created_at, updated_at, status_reason)"
                   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,"
                   " $13, $14) RETURNING id"));
    stmt.BindText(1, customer.uuid);
    stmt.BindText(2, customer.name);
    stmt.BindText(3, customer.email);
    stmt.BindText(4, customer.company);
    stmt.BindText(5, customer.country);
    stmt.BindText(6, customer.state);
    stmt.BindText(7, customer.city);
    stmt.BindText(8, customer.zip);
    stmt.BindOptionalTime(9, customer.lead_created_at);
    stmt.BindOptionalTime(10, customer.free_trial_started_at);
    stmt.BindInt64(11, CustomerStatusCode(CustomerStatus::kLead));
    stmt.BindTime(12, customer.created_at);
    stmt.BindTime(13, customer.updated_at);
    stmt.BindText(14, customer.status_reason);
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) return absl::InternalError("inserting a customer returned no id");
    key = stmt.ColumnInt64(0);
  }
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("INSERT INTO customer_external_ids (data_source_id,"
                 " external_id, customer_id, position)"
                 " VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING"));
  stmt.BindInt64(1, source_key);
  stmt.BindText(2, customer.external_id);
  stmt.BindInt64(3, key);
  // DO NOTHING, and the customer row taken back, rather than a unique
  // violation, which would abort the whole transaction.
  RECURRENT_RETURN_IF_ERROR(stmt.Run());
  if (stmt.RowsAffected() == 1) return absl::OkStatus();
  RECURRENT_ASSIGN_OR_RETURN(Statement undo,
                             db.Prepare("DELETE FROM customers WHERE id = $1"));
  undo.BindInt64(1, key);
  RECURRENT_RETURN_IF_ERROR(undo.Run());
  return common::ResourceAlreadyExists(
      absl::AlreadyExistsError(absl::StrCat(
          "a customer with external id '", customer.external_id,
          "' already exists in data source ", customer.data_source_uuid)),
      "customer", customer.external_id);
}

absl::StatusOr<CustomerRecord> LoadCustomerRecord(Connection& db,
                                                  absl::string_view uuid) {
  static const std::string* const kSql = new std::string(absl::StrCat(
      "SELECT ", kCustomerColumns, " FROM customers c WHERE c.uuid = $1"));
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(*kSql));
  stmt.BindText(1, uuid);
  return LoadOne(stmt, db, uuid);
}

absl::StatusOr<Customer> LoadCustomer(Connection& db, absl::string_view uuid) {
  RECURRENT_ASSIGN_OR_RETURN(CustomerRecord record,
                             LoadCustomerRecord(db, uuid));
  return std::move(record.customer);
}

absl::Status UpdateCustomerRow(Connection& db, absl::string_view uuid,
                               const CustomerFields& fields,
                               const std::vector<std::string>& tags,
                               absl::Time updated_at) {
  RECURRENT_ASSIGN_OR_RETURN(const int64_t key, FindCustomerKey(db, uuid));
  {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("UPDATE customers SET name = $1, email = $2, company = $3,"
                   " country = $4, state = $5, city = $6, zip = $7,"
                   " lead_created_at = $8, free_trial_started_at = $9,"
                   " updated_at = $10 WHERE id = $11"));
    stmt.BindText(1, fields.name);
    stmt.BindText(2, fields.email);
    stmt.BindText(3, fields.company);
    stmt.BindText(4, fields.country);
    stmt.BindText(5, fields.state);
    stmt.BindText(6, fields.city);
    stmt.BindText(7, fields.zip);
    stmt.BindOptionalTime(8, fields.lead_created_at);
    stmt.BindOptionalTime(9, fields.free_trial_started_at);
    stmt.BindTime(10, updated_at);
    stmt.BindInt64(11, key);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  {
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("DELETE FROM customer_tags WHERE customer_id = $1"));
    stmt.BindInt64(1, key);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt, db.Prepare("INSERT INTO customer_tags (customer_id, tag)"
                                 " VALUES ($1, $2) ON CONFLICT DO NOTHING"));
  stmt.BindInt64(1, key);
  for (const std::string& tag : tags) {
    stmt.BindText(2, tag);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
    stmt.Reset();
  }
  return absl::OkStatus();
}

absl::Status DeleteCustomerRow(Connection& db, absl::string_view uuid) {
  // External ids, tags, invoices, subscriptions (and their children) go by
  // ON DELETE CASCADE.
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt, db.Prepare("DELETE FROM customers WHERE uuid = $1"));
  stmt.BindText(1, uuid);
  RECURRENT_RETURN_IF_ERROR(stmt.Run());
  if (stmt.RowsAffected() == 0) return CustomerNotFound(uuid);
  return absl::OkStatus();
}

absl::StatusOr<Page<Customer>> LoadCustomerPage(Connection& db,
                                                const CustomerFilter& filter,
                                                const PageRequest& page) {
  RECURRENT_RETURN_IF_ERROR(ValidatePageSize(page));
  const std::string status =
      filter.status.has_value()
          ? absl::StrCat(CustomerStatusCode(*filter.status))
          : std::string();
  const uint64_t fingerprint = CustomerQueryFingerprint(filter, status);
  int64_t after = 0;
  if (!page.page_token.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(after,
                               DecodePageToken(page.page_token, fingerprint));
  }
  std::vector<CustomerRow> rows;
  bool more = false;
  {
    const CustomerPageQuery query = CustomerPageSql(filter);
    RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(query.sql));
    stmt.BindInt64(1, after);
    // One extra row tells whether there is a next page.
    stmt.BindInt64(2, int64_t{page.page_size} + 1);
    if (query.source != 0) stmt.BindText(query.source, filter.data_source_uuid);
    if (query.external_id != 0) {
      stmt.BindText(query.external_id, filter.external_id);
    }
    if (query.email != 0) stmt.BindText(query.email, filter.email);
    if (query.status != 0) {
      stmt.BindInt64(query.status, CustomerStatusCode(*filter.status));
    }
    while (true) {
      RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
      if (!row) break;
      if (static_cast<int>(rows.size()) == page.page_size) {
        more = true;
        break;
      }
      RECURRENT_ASSIGN_OR_RETURN(CustomerRow customer, ReadCustomerRow(stmt));
      rows.push_back(std::move(customer));
    }
  }
  RECURRENT_RETURN_IF_ERROR(LoadExternalIdsAndTags(db, rows));
  Page<Customer> result;
  if (more)
    result.next_page_token = EncodePageToken(rows.back().key, fingerprint);
  result.items.reserve(rows.size());
  for (CustomerRow& row : rows) result.items.push_back(std::move(row.customer));
  return result;
}

absl::Status MoveCustomerRows(Connection& db, absl::string_view from_uuid,
                              absl::string_view into_uuid) {
  RECURRENT_ASSIGN_OR_RETURN(const int64_t from,
                             FindCustomerKey(db, from_uuid));
  RECURRENT_ASSIGN_OR_RETURN(const int64_t into,
                             FindCustomerKey(db, into_uuid));
  if (from == into) {
    return common::WithReason(
        absl::InvalidArgumentError(
            absl::StrCat("cannot merge customer ", from_uuid, " into itself")),
        common::reason::kInvalidRequest);
  }
  {
    // Append from's external ids after into's, keeping their order.
    RECURRENT_ASSIGN_OR_RETURN(
        Statement stmt,
        db.Prepare("UPDATE customer_external_ids SET customer_id = $2,"
                   " position = position + (SELECT COALESCE(MAX(position), -1)"
                   " + 1 FROM customer_external_ids WHERE customer_id = $2)"
                   " WHERE customer_id = $1"));
    stmt.BindInt64(1, from);
    stmt.BindInt64(2, into);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  // Tags (a union), facts and stored evaluations; cancellations follow
  // their subscriptions.
  for (const char* sql :
       {"INSERT INTO customer_tags (customer_id, tag)"
        " SELECT $2::bigint, tag FROM customer_tags WHERE customer_id = $1"
        " ON CONFLICT DO NOTHING",
        "UPDATE invoices SET customer_id = $2 WHERE customer_id = $1",
        "UPDATE line_items SET customer_id = $2 WHERE customer_id = $1",
        "UPDATE transactions SET customer_id = $2 WHERE customer_id = $1",
        "UPDATE subscriptions SET customer_id = $2 WHERE customer_id = $1",
        "UPDATE subscription_events SET customer_id = $2"
        " WHERE customer_id = $1"}) {
    RECURRENT_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(sql));
    stmt.BindInt64(1, from);
    stmt.BindInt64(2, into);
    RECURRENT_RETURN_IF_ERROR(stmt.Run());
  }
  RECURRENT_ASSIGN_OR_RETURN(Statement stmt,
                             db.Prepare("DELETE FROM customers WHERE id = $1"));
  stmt.BindInt64(1, from);
  return stmt.Run();
}

absl::StatusOr<std::vector<std::string>> FindDueCustomers(Connection& db,
                                                          absl::Time now,
                                                          int limit) {
  std::vector<std::string> due;
  if (limit <= 0) return due;  // (PostgreSQL refuses a negative LIMIT)
  RECURRENT_ASSIGN_OR_RETURN(
      Statement stmt,
      db.Prepare("SELECT uuid FROM customers WHERE next_transition_at <= $1"
                 " ORDER BY next_transition_at LIMIT $2"));
  stmt.BindTime(1, now);
  stmt.BindInt64(2, limit);
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    due.push_back(stmt.ColumnText(0));
  }
  return due;
}

}  // namespace recurrent::persistence::postgres
