#include "engine/status_reason.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/money.h"

namespace recurrent::engine {

std::string FormatInstant(absl::Time t) {
  if (t == absl::InfinitePast()) return "the beginning of time";
  if (t == absl::InfiniteFuture()) return "never";
  const absl::CivilSecond s = absl::ToCivilSecond(t, absl::UTCTimeZone());
  if (s.hour() == 0 && s.minute() == 0 && s.second() == 0 &&
      t == absl::FromCivil(s, absl::UTCTimeZone())) {
    return absl::StrFormat("%04d-%02d-%02d", s.year(), s.month(), s.day());
  }
  return absl::StrFormat("%04d-%02d-%02d %02d:%02d:%02d UTC", s.year(),
                         s.month(), s.day(), s.hour(), s.minute(), s.second());
}

std::string FormatAmount(int64_t cents, absl::string_view currency) {
  std::string amount = common::FormatMinorUnits(cents, currency);
  if (currency.empty()) return amount;
  return absl::StrCat(currency, " ", amount);
}

namespace {

// "." or "; it auto-churns on … setting." to end a past-due sentence.
std::string PastDueEnding(const StatusReason& reason) {
  if (reason.auto_churns_at == absl::InfiniteFuture()) return ".";
  return absl::StrFormat(
      "; it auto-churns on %s under this source's %d-day "
      "setting.",
      FormatInstant(reason.auto_churns_at), reason.auto_churn_after_days);
}

}  // namespace

std::string FormatStatusReason(const StatusReason& reason) {
  switch (reason.kind) {
    case ReasonKind::kNotStarted:
      if (reason.detail == absl::InfiniteFuture()) {
        return "Not started: it has no paid service period.";
      }
      return absl::StrCat("Not started: its first paid service period starts ",
                          FormatInstant(reason.detail), ".");
    case ReasonKind::kActive:
      return absl::StrCat("Active since ", FormatInstant(reason.since),
                          ": nothing is past due.");
    case ReasonKind::kInvoiceUnpaid:
      return absl::StrCat(
          "Past due since ", FormatInstant(reason.since), ": invoice ",
          reason.invoice_external_id, " (",
          FormatAmount(reason.amount_due_in_cents, reason.currency),
          ") is not paid in full", PastDueEnding(reason));
    case ReasonKind::kNotRenewed:
      return absl::StrCat("Past due since ", FormatInstant(reason.since),
                          ": the service period that ended ",
                          FormatInstant(reason.detail), " was not renewed",
                          PastDueEnding(reason));
    case ReasonKind::kCancelled:
      return absl::StrCat("Cancelled on ", FormatInstant(reason.since),
                          " by an explicit cancellation.");
    case ReasonKind::kAutoChurned:
      if (reason.since - reason.detail ==
          absl::Hours(24) * reason.auto_churn_after_days) {
        return absl::StrFormat(
            "Automatically cancelled on %s after %d days past due (source "
            "setting).",
            FormatInstant(reason.since), reason.auto_churn_after_days);
      }
      return absl::StrFormat(
          "Automatically cancelled on %s, past due since %s (source setting: "
          "%d days).",
          FormatInstant(reason.since), FormatInstant(reason.detail),
          reason.auto_churn_after_days);
  }
  return "";
}

}  // namespace recurrent::engine
