#include "service/call_limiter.h"

namespace recurrent::service {

bool CallLimiter::TryAdmit(const std::string& connection) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, first] = per_connection_.try_emplace(connection, 0);
  if (it->second >= kAlwaysAdmitted && max_calls_ != 0 && held_ >= max_calls_) {
    return false;
  }
  ++it->second;
  ++held_;
  return true;
}

void CallLimiter::Release(const std::string& connection) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = per_connection_.find(connection);
  if (it == per_connection_.end()) return;
  --held_;
  if (--it->second == 0) per_connection_.erase(it);
}

size_t CallLimiter::held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_;
}

}  // namespace recurrent::service
