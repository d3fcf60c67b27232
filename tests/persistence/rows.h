// Rows for persistence tests that write through the Backend interface.
#ifndef RECURRENT_TESTS_PERSISTENCE_ROWS_H_
#define RECURRENT_TESTS_PERSISTENCE_ROWS_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "persistence/records.h"

namespace recurrent::persistence {

// A data source "ds_<name>" created at `at`, with a first settings version
// (keep) saved and applied then.
inline DataSourceRow SourceRow(const std::string& name, absl::Time at) {
  DataSourceRow source;
  source.uuid = absl::StrCat("ds_", name);
  source.name = name;
  source.system = "custom";
  source.created_at = at;
  source.settings.data_source_uuid = source.uuid;
  source.settings.version = 1;
  source.settings.applied_at = at;
  source.settings.saved_at = at;
  source.settings.values = "past_due_handling.mode=keep\n";
  return source;
}

}  // namespace recurrent::persistence

#endif  // RECURRENT_TESTS_PERSISTENCE_ROWS_H_
