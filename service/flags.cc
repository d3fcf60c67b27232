#include "service/flags.h"

#include <string>

#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/version.h"

namespace recurrent::service {
namespace {

// The files that define recurrentd's flags, and how --help names them.
constexpr absl::string_view kFlagsFile = "service/flags_";
constexpr absl::string_view kGroup = "recurrentd/";

// ".../service/flags_network.cc" -> "recurrentd/network"; any other file
// (Abseil's own flags) as it is.
std::string GroupOf(absl::string_view file) {
  const size_t at = file.rfind(kFlagsFile);
  if (at == absl::string_view::npos || !absl::EndsWith(file, ".cc")) {
    return std::string(file);
  }
  absl::string_view group = file.substr(at + kFlagsFile.size());
  group.remove_suffix(3);
  return absl::StrCat(kGroup, group);
}

// Whether `file` (as given to the filters: before or after GroupOf) defines
// recurrentd's flags.
bool IsRecurrentdFlag(absl::string_view file) {
  return absl::StartsWith(file, kGroup) || absl::StrContains(file, kFlagsFile);
}

}  // namespace

void SetFlagsUsage() {
  absl::FlagsUsageConfig config;
  config.contains_helpshort_flags = IsRecurrentdFlag;
  config.contains_help_flags = IsRecurrentdFlag;
  config.normalize_filename = GroupOf;
  config.version_string = [] {
    return absl::StrCat("recurrentd ", Version(), " (commit ", GitCommit(),
                        ")\n");
  };
  absl::SetFlagsUsageConfig(config);
}

}  // namespace recurrent::service
