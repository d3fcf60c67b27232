#include "service/call_limiter.h"

namespace recurrent::service {

bool CallLimiter::TryAdmit(const std::string& connection) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, first] = per_connection_.try_emplace(connection);
  Calls& calls = it->second;
  const bool exempt =
      calls.held < kAlwaysAdmitted ||
      (calls.unanswered == 0 && calls.held < kAdmittedWhenAnswered);
  if (!exempt && max_calls_ != 0 && held_ >= max_calls_) return false;
  ++calls.held;
  ++calls.unanswered;
  ++held_;
  return true;
}

void CallLimiter::Answered(const std::string& connection) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_connection_.find(connection);
  if (it != per_connection_.end() && it->second.unanswered > 0) {
    --it->second.unanswered;
  }
}

void CallLimiter::Release(const std::string& connection, bool answered) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_connection_.find(connection);
  if (it == per_connection_.end()) return;
  --held_;
  Calls& calls = it->second;
  if (!answered && calls.unanswered > 0) --calls.unanswered;
  if (--calls.held == 0) per_connection_.erase(it);
}

size_t CallLimiter::held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_;
}

}  // namespace recurrent::service
