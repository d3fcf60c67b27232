#include "core/background_priority.h"

#include <linux/capability.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "gtest/gtest.h"

namespace recurrent::core {
namespace {

// Drops CAP_SYS_NICE from the calling thread's effective set (threads it
// starts inherit it), as a server without privileges runs.
bool DropCapSysNice() {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) != 0) return false;
  data[CAP_TO_INDEX(CAP_SYS_NICE)].effective &= ~CAP_TO_MASK(CAP_SYS_NICE);
  return syscall(SYS_capset, &header, data) == 0;
}

// Exits the process with `code` after saying why.
[[noreturn]] void Fail(int code, const char* what, long value) {
  std::fprintf(stderr, "%s: %ld\n", what, value);
  std::fflush(stderr);
  _exit(code);
}

bool HasCapSysNice() {
  __user_cap_header_struct header{};
  header.version = _LINUX_CAPABILITY_VERSION_3;
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  return syscall(SYS_capget, &header, data) == 0 &&
         (data[CAP_TO_INDEX(CAP_SYS_NICE)].effective &
          CAP_TO_MASK(CAP_SYS_NICE)) != 0;
}

struct Privileges {
  bool cap_sys_nice = false;  // else dropped
  rlim_t rlimit_nice = 0;     // soft and hard
};

// Runs in a child process: with `privileges`, expects
// ChooseBackgroundPolicy() to be `expected`; lowers a thread with it,
// promotes it, and exits with 0 if the thread ran under the policy's
// scheduling class and ends under SCHED_OTHER at kBackgroundNice.
[[noreturn]] void LowerAndPromote(Privileges privileges,
                                  BackgroundPolicy expected) {
  if (!privileges.cap_sys_nice && !DropCapSysNice()) {
    Fail(10, "capset failed", errno);
  }
  const rlimit limit{privileges.rlimit_nice, privileges.rlimit_nice};
  if (setrlimit(RLIMIT_NICE, &limit) != 0) Fail(11, "setrlimit", errno);
  const BackgroundPolicy policy = ChooseBackgroundPolicy();
  if (policy != expected) Fail(12, "chose", static_cast<long>(policy));

  std::mutex mu;
  std::condition_variable changed;
  pid_t tid = 0;
  bool done = false;
  std::thread thread([&] {
    EnterBackground(policy);
    std::unique_lock<std::mutex> lock(mu);
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    changed.notify_all();
    changed.wait(lock, [&] { return done; });
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    changed.wait(lock, [&] { return tid != 0; });
  }
  const int lowered = sched_getscheduler(tid);
  const int lowered_class =
      expected == BackgroundPolicy::kIdle ? SCHED_IDLE : SCHED_OTHER;
  if (lowered != lowered_class) Fail(13, "lowered to class", lowered);
  if (getpriority(PRIO_PROCESS, static_cast<id_t>(tid)) != kBackgroundNice) {
    Fail(14, "lowered to nice", getpriority(PRIO_PROCESS, tid));
  }
  if (!PromoteBackgroundThread(thread)) Fail(15, "promotion refused", errno);
  const int promoted = sched_getscheduler(tid);
  if (promoted != SCHED_OTHER) Fail(16, "promoted to class", promoted);
  if (getpriority(PRIO_PROCESS, static_cast<id_t>(tid)) != kBackgroundNice) {
    Fail(17, "promoted to nice", getpriority(PRIO_PROCESS, tid));
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    changed.notify_all();
  }
  thread.join();
  _exit(0);
}

class BackgroundPriorityTest : public testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

// The systemd unit runs the server as a user of its own without
// capabilities, where RLIMIT_NICE is 0 unless LimitNICE= raises it: a
// SCHED_IDLE thread could not be promoted, and a starved reprocess would
// hold the write lock indefinitely. Such a server lowers its background
// threads to nice 10 only.
TEST_F(BackgroundPriorityTest,
       WithoutThePrivilegeToPromoteThreadsOnlyLowerTheirNice) {
  EXPECT_EXIT(LowerAndPromote({.cap_sys_nice = false, .rlimit_nice = 0},
                              BackgroundPolicy::kNice),
              testing::ExitedWithCode(0), "");
}

TEST_F(BackgroundPriorityTest, CapSysNiceAllowsIdleThreadsToBePromoted) {
  if (!HasCapSysNice()) GTEST_SKIP() << "the tests run without CAP_SYS_NICE";
  EXPECT_EXIT(LowerAndPromote({.cap_sys_nice = true, .rlimit_nice = 0},
                              BackgroundPolicy::kIdle),
              testing::ExitedWithCode(0), "");
}

TEST_F(BackgroundPriorityTest, ALimitNiceOfTenAllowsIdleThreadsToBePromoted) {
  const rlim_t needed = 20 - kBackgroundNice;
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NICE, &limit), 0);
  // Raising the hard limit needs CAP_SYS_RESOURCE.
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) {
    GTEST_SKIP() << "RLIMIT_NICE's hard limit is below " << needed;
  }
  EXPECT_EXIT(LowerAndPromote({.cap_sys_nice = false, .rlimit_nice = needed},
                              BackgroundPolicy::kIdle),
              testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace recurrent::core
