#include "persistence/ids.h"

#include <string>

#include "absl/random/random.h"
#include "absl/random/uniform_int_distribution.h"
#include "absl/strings/match.h"

namespace recurrent::persistence {
namespace {

constexpr absl::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";

}  // namespace

std::string NewId(absl::string_view prefix) {
  // absl::BitGen is not thread-safe; one per thread, each seeded from the OS.
  thread_local absl::BitGen gen;
  std::string id(prefix);
  id.reserve(prefix.size() + kIdRandomChars);
  // 20 characters x 5 bits = 100 bits, drawn as two 50-bit numbers.
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = absl::Uniform<uint64_t>(gen);
    for (int i = 0; i < kIdRandomChars / 2; ++i) {
      id.push_back(kAlphabet[bits & 31]);
      bits >>= 5;
    }
  }
  return id;
}

bool HasIdShape(absl::string_view id, absl::string_view prefix) {
  if (!absl::StartsWith(id, prefix)) return false;
  id.remove_prefix(prefix.size());
  if (id.size() != kIdRandomChars) return false;
  for (char c : id) {
    if (kAlphabet.find(c) == absl::string_view::npos) return false;
  }
  return true;
}

}  // namespace recurrent::persistence
