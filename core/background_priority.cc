#include "core/background_priority.h"

#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace recurrent::core {
namespace {

// Whether the calling thread has CAP_SYS_NICE in its effective set (what
// the kernel checks; glibc has no wrapper and libcap is not worth a
// dependency for one bit).
bool HasCapSysNice() {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  header.pid = 0;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  return (data[CAP_TO_INDEX(CAP_SYS_NICE)].effective &
          CAP_TO_MASK(CAP_SYS_NICE)) != 0;
}

}  // namespace

BackgroundPolicy ChooseBackgroundPolicy() {
  // RLIMIT_NICE is 20 - the lowest nice value the process may set.
  rlimit limit{};
  if (getrlimit(RLIMIT_NICE, &limit) == 0 &&
      (limit.rlim_cur == RLIM_INFINITY ||
       limit.rlim_cur >= static_cast<rlim_t>(20 - kBackgroundNice))) {
    return BackgroundPolicy::kIdle;
  }
  return HasCapSysNice() ? BackgroundPolicy::kIdle : BackgroundPolicy::kNice;
}

void EnterBackground(BackgroundPolicy policy) {
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)),
              kBackgroundNice);
  if (policy == BackgroundPolicy::kIdle) {
    sched_param param{};
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
  }
}

bool PromoteBackgroundThread(std::thread& thread) {
  int policy = SCHED_OTHER;
  sched_param param{};
  if (pthread_getschedparam(thread.native_handle(), &policy, &param) != 0) {
    return false;
  }
  if (policy != SCHED_IDLE) return true;
  param = sched_param{};
  return pthread_setschedparam(thread.native_handle(), SCHED_OTHER, &param) ==
         0;
}

}  // namespace recurrent::core
