// RowIndex: a page of parent rows (customers, invoices) indexed for loading
// their children with one query each, in both backends: bind `keys` as one
// parameter (SQLite: KeysAsJson(keys) with json_each; PostgreSQL:
// BindInt64Array with `= ANY($1::bigint[])`); `by_key` finds the item of a
// child's parent key.
#ifndef RECURRENT_PERSISTENCE_ROW_INDEX_H_
#define RECURRENT_PERSISTENCE_ROW_INDEX_H_

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace recurrent::persistence {

template <typename Item>
struct RowIndex {
  std::vector<int64_t> keys;
  std::unordered_map<int64_t, Item*> by_key;
};

// Indexes `rows` (each with an int64_t `key`) by key; `item` picks the
// object to fill from a row.
template <typename Item, typename Row, typename Pick>
RowIndex<Item> IndexRows(std::vector<Row>& rows, Pick item) {
  RowIndex<Item> index;
  index.by_key.reserve(rows.size());
  index.keys.reserve(rows.size());
  for (Row& row : rows) {
    index.keys.push_back(row.key);
    index.by_key[row.key] = &item(row);
  }
  return index;
}

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_ROW_INDEX_H_
