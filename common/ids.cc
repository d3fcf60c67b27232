#include "common/ids.h"

#include <string>

#include "absl/random/random.h"
#include "absl/random/uniform_int_distribution.h"
#include "absl/strings/match.h"
#include "common/fnv1a.h"

namespace recurrent::common {
namespace {

// Appends 10 characters (50 bits) of `bits`.
void AppendChars(uint64_t bits, std::string& id) {
  for (int i = 0; i < kIdRandomChars / 2; ++i) {
    id.push_back(kIdAlphabet[bits & 31]);
    bits >>= 5;
  }
}

// The splitmix64 finalizer: spreads every input bit over the output, which
// FNV-1a alone does poorly for the high bits.
uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

std::string NewId(absl::string_view prefix) {
  // absl::BitGen is not thread-safe; one per thread, each seeded from the OS.
  thread_local absl::BitGen gen;
  std::string id(prefix);
  id.reserve(prefix.size() + kIdRandomChars);
  // 20 characters x 5 bits = 100 bits, drawn as two 50-bit numbers.
  for (int half = 0; half < 2; ++half) {
    AppendChars(absl::Uniform<uint64_t>(gen), id);
  }
  return id;
}

std::string DerivedId(absl::string_view prefix, absl::string_view key) {
  std::string id(prefix);
  id.reserve(prefix.size() + kIdRandomChars);
  // Two hashes with different bases, 50 bits of each.
  for (const uint64_t basis :
       {uint64_t{Fnv1a::kDefaultBasis}, uint64_t{0x84222325cbf29ce4ULL}}) {
    Fnv1a fnv(basis);
    fnv.Add(key);
    AppendChars(Mix(fnv.hash()), id);
  }
  return id;
}

bool HasIdShape(absl::string_view id, absl::string_view prefix) {
  if (!absl::StartsWith(id, prefix)) return false;
  id.remove_prefix(prefix.size());
  if (id.size() != kIdRandomChars) return false;
  for (char c : id) {
    if (kIdAlphabet.find(c) == absl::string_view::npos) return false;
  }
  return true;
}

}  // namespace recurrent::common
