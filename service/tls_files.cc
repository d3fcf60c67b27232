#include "service/tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace recurrent::service {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

absl::StatusOr<std::string> ReadFile(absl::string_view flag,
                                     const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  if (in) contents << in.rdbuf();
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": cannot read ", path));
  }
  return contents.str();
}

BioPtr MemoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// The first certificate of `pem`, or null.
X509Ptr FirstCertificate(const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return cert;
}

absl::Status NotPem(absl::string_view flag, const std::string& path,
                    absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, ": ", path, " holds no PEM ", what));
}

}  // namespace

absl::StatusOr<TlsOptions> LoadTlsFiles(const std::string& cert_path,
                                        const std::string& key_path,
                                        const std::string& client_ca_path) {
  TlsOptions tls;
  RECURRENT_ASSIGN_OR_RETURN(tls.cert_chain, ReadFile("tls_cert", cert_path));
  RECURRENT_ASSIGN_OR_RETURN(tls.private_key, ReadFile("tls_key", key_path));
  X509Ptr cert = FirstCertificate(tls.cert_chain);
  if (cert == nullptr) return NotPem("tls_cert", cert_path, "certificate");
  BioPtr key_bio = MemoryBio(tls.private_key);
  PkeyPtr key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (key == nullptr) return NotPem("tls_key", key_path, "private key");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_key: ", key_path, " is not the key of ", cert_path));
  }
  if (!client_ca_path.empty()) {
    RECURRENT_ASSIGN_OR_RETURN(tls.client_ca,
                               ReadFile("tls_client_ca", client_ca_path));
    if (FirstCertificate(tls.client_ca) == nullptr) {
      return NotPem("tls_client_ca", client_ca_path, "certificate");
    }
  }
  return tls;
}

}  // namespace recurrent::service
