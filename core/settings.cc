#include "core/settings.h"

#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace recurrent::core {
namespace {

// Record keys and mode names. Stored in databases: never rename.
constexpr absl::string_view kModeKey = "past_due_handling.mode";
constexpr absl::string_view kDaysKey =
    "past_due_handling.auto_churn_after_days";
constexpr absl::string_view kKeepName = "keep";
constexpr absl::string_view kAutoChurnName = "auto_churn";

absl::Status Unreadable(absl::string_view values, absl::string_view why) {
  return absl::InternalError(absl::StrCat("stored settings record \"", values,
                                          "\" cannot be read: ", why));
}

// MRR impact record keys. Stored in databases: never rename.
constexpr absl::string_view kMrrChangeKey = "mrr_change";
constexpr absl::string_view kChurnedMrrKey = "churned_mrr";

void EncodeAmounts(absl::string_view key,
                   const std::vector<engine::MrrAmount>& amounts,
                   std::string& out) {
  for (const engine::MrrAmount& amount : amounts) {
    absl::StrAppend(&out, key, " ", amount.currency, " ", amount.mrr_in_cents,
                    "\n");
  }
}

}  // namespace

std::string EncodeMrrImpact(const SettingsImpact& impact) {
  std::string out;
  EncodeAmounts(kMrrChangeKey, impact.mrr_change, out);
  EncodeAmounts(kChurnedMrrKey, impact.churned_mrr, out);
  return out;
}

absl::Status DecodeMrrImpact(absl::string_view record,
                             SettingsImpact& impact) {
  std::vector<engine::MrrAmount> mrr_change;
  std::vector<engine::MrrAmount> churned_mrr;
  for (absl::string_view line :
       absl::StrSplit(record, '\n', absl::SkipEmpty())) {
    const std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    engine::MrrAmount amount;
    if (fields.size() != 3 || fields[1].empty() ||
        !absl::SimpleAtoi(fields[2], &amount.mrr_in_cents)) {
      return absl::InternalError(absl::StrCat(
          "stored MRR impact line \"", line, "\" cannot be read"));
    }
    amount.currency = std::string(fields[1]);
    if (fields[0] == kMrrChangeKey) {
      mrr_change.push_back(std::move(amount));
    } else if (fields[0] == kChurnedMrrKey) {
      churned_mrr.push_back(std::move(amount));
    } else {
      return absl::InternalError(absl::StrCat(
          "stored MRR impact line \"", line, "\" has an unknown key"));
    }
  }
  impact.mrr_change = std::move(mrr_change);
  impact.churned_mrr = std::move(churned_mrr);
  return absl::OkStatus();
}

std::string EncodeSettingsValues(const SourceSettings& settings) {
  const PastDueHandling& handling = settings.past_due_handling;
  if (handling.mode == PastDueMode::kKeep) {
    return absl::StrCat(kModeKey, "=", kKeepName, "\n");
  }
  return absl::StrCat(kModeKey, "=", kAutoChurnName, "\n", kDaysKey, "=",
                      handling.auto_churn_after_days, "\n");
}

absl::Status DecodeSettingsValues(absl::string_view values,
                                  SourceSettings& settings) {
  PastDueHandling handling;
  for (absl::string_view line :
       absl::StrSplit(values, '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits('=', 1));
    if (kv.first == kModeKey) {
      if (kv.second == kKeepName) {
        handling.mode = PastDueMode::kKeep;
      } else if (kv.second == kAutoChurnName) {
        handling.mode = PastDueMode::kAutoChurn;
      } else {
        return Unreadable(values, absl::StrCat("unknown mode ", kv.second));
      }
    } else if (kv.first == kDaysKey) {
      if (!absl::SimpleAtoi(kv.second, &handling.auto_churn_after_days)) {
        return Unreadable(values, "bad number of days");
      }
    } else {
      // Written by a newer recurrentd; the schema version should have
      // stopped this one from opening the database.
      return Unreadable(values, absl::StrCat("unknown setting ", kv.first));
    }
  }
  settings.past_due_handling = handling;
  return absl::OkStatus();
}

persistence::SettingsRow ToRow(const SourceSettings& settings) {
  persistence::SettingsRow row;
  row.data_source_uuid = settings.data_source_uuid;
  row.version = settings.version;
  row.applied_at = settings.applied_at;
  row.saved_at = settings.saved_at;
  row.saved_by = settings.saved_by;
  row.impact = settings.impact;
  row.mrr_impact = EncodeMrrImpact(settings.impact);
  row.values = EncodeSettingsValues(settings);
  return row;
}

absl::StatusOr<SourceSettings> FromRow(const persistence::SettingsRow& row) {
  SourceSettings settings;
  settings.data_source_uuid = row.data_source_uuid;
  settings.version = row.version;
  settings.applied_at = row.applied_at;
  settings.saved_at = row.saved_at;
  settings.saved_by = row.saved_by;
  settings.impact = row.impact;
  RECURRENT_RETURN_IF_ERROR(DecodeMrrImpact(row.mrr_impact, settings.impact));
  RECURRENT_RETURN_IF_ERROR(DecodeSettingsValues(row.values, settings));
  return settings;
}

absl::StatusOr<DataSource> FromRow(const persistence::DataSourceRow& row) {
  DataSource source;
  source.uuid = row.uuid;
  source.name = row.name;
  source.system = row.system;
  source.created_at = row.created_at;
  RECURRENT_ASSIGN_OR_RETURN(source.settings, FromRow(row.settings));
  return source;
}

engine::SourceSettings ToEngine(const SourceSettings& settings) {
  engine::SourceSettings out;
  out.mode = settings.past_due_handling.mode;
  out.auto_churn_after_days = settings.past_due_handling.auto_churn_after_days;
  out.applied_at = settings.applied_at;
  return out;
}

absl::StatusOr<engine::SettingsMap> ToSettingsMap(
    absl::Span<const persistence::SettingsRow> rows) {
  engine::SettingsMap map;
  for (const persistence::SettingsRow& row : rows) {
    RECURRENT_ASSIGN_OR_RETURN(const SourceSettings settings, FromRow(row));
    map[row.data_source_uuid] = ToEngine(settings);
  }
  return map;
}

}  // namespace recurrent::core
