#include "common/version.h"

#include "version_info.h"  // generated: RECURRENT_VERSION, RECURRENT_GIT_COMMIT

namespace recurrent {

const char* Version() { return RECURRENT_VERSION; }

const char* GitCommit() { return RECURRENT_GIT_COMMIT; }

}  // namespace recurrent
