// Keyset pagination over a statement, shared by the List* queries of both
// backends (their Statement classes have the same Step/ColumnInt64 shape).
#ifndef RECURRENT_PERSISTENCE_KEYSET_PAGE_H_
#define RECURRENT_PERSISTENCE_KEYSET_PAGE_H_

#include <cstdint>
#include <utility>

#include "absl/status/statusor.h"
#include "common/status_macros.h"
#include "persistence/page_token.h"
#include "persistence/records.h"

namespace recurrent::persistence {

// Reads a page from `stmt`, which must select rows in key order, with the
// row's integer key in column 0, and ask for `page_size + 1` rows: the extra
// row only tells that there is a next page, whose token then continues after
// the last returned key. `read(stmt)` returns one item as
// absl::StatusOr<T>.
template <typename T, typename Statement, typename Read>
absl::StatusOr<Page<T>> ReadKeysetPage(Statement& stmt, int page_size,
                                       uint64_t fingerprint, Read read) {
  Page<T> page;
  int64_t last_key = 0;
  while (true) {
    RECURRENT_ASSIGN_OR_RETURN(const bool row, stmt.Step());
    if (!row) break;
    if (static_cast<int>(page.items.size()) == page_size) {
      page.next_page_token = EncodePageToken(last_key, fingerprint);
      break;
    }
    last_key = stmt.ColumnInt64(0);
    RECURRENT_ASSIGN_OR_RETURN(T item, read(stmt));
    page.items.push_back(std::move(item));
  }
  return page;
}

}  // namespace recurrent::persistence

#endif  // RECURRENT_PERSISTENCE_KEYSET_PAGE_H_
