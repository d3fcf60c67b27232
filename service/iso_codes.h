// ISO code tables used to validate requests.
#ifndef RECURRENT_SERVICE_ISO_CODES_H_
#define RECURRENT_SERVICE_ISO_CODES_H_

#include "absl/strings/string_view.h"

namespace recurrent::service {

// True for an officially assigned ISO 3166-1 alpha-2 country code, in upper
// case ("DE", "US").
bool IsIsoCountryCode(absl::string_view code);

// True for an active ISO 4217 currency code, in upper case ("EUR", "USD").
bool IsIsoCurrencyCode(absl::string_view code);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_ISO_CODES_H_
