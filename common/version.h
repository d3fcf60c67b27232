// The version of this build of Recurrent.
//
//   std::printf("recurrentd %s (commit %s)\n", Version(), GitCommit());
#ifndef RECURRENT_COMMON_VERSION_H_
#define RECURRENT_COMMON_VERSION_H_

namespace recurrent {

// The release version, e.g. "0.1.0" (CMakeLists.txt, project()).
const char* Version();

// The git commit the build was made from, 12 hex digits, with "-dirty" if
// tracked files had changes; "unknown" when built outside a git checkout.
const char* GitCommit();

}  // namespace recurrent

#endif  // RECURRENT_COMMON_VERSION_H_
