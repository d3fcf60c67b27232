// Fnv1a: the 64-bit FNV-1a hash, stable across processes and releases (unlike
// absl::Hash), for page-token fingerprints and derived ids. Not for
// adversarial inputs.
#ifndef RECURRENT_COMMON_FNV1A_H_
#define RECURRENT_COMMON_FNV1A_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace recurrent::common {

class Fnv1a {
 public:
  static constexpr uint64_t kDefaultBasis = 0xcbf29ce484222325ULL;

  // `basis` other than the default gives an independent-looking hash family.
  explicit Fnv1a(uint64_t basis = kDefaultBasis) : hash_(basis) {}

  void Add(absl::string_view bytes) {
    for (unsigned char c : bytes) {
      hash_ ^= c;
      hash_ *= 0x100000001b3ULL;
    }
  }
  void AddLengthPrefixed(absl::string_view bytes) {
    AddUint64(bytes.size());
    Add(bytes);
  }
  void AddUint64(uint64_t value) {
    for (int i = 0; i < 8; ++i) {
      const char byte = static_cast<char>(value >> (8 * i));
      Add(absl::string_view(&byte, 1));
    }
  }
  uint64_t hash() const { return hash_; }

 private:
  uint64_t hash_;
};

}  // namespace recurrent::common

#endif  // RECURRENT_COMMON_FNV1A_H_
