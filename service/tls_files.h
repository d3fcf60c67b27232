// Reading the server's TLS material (recurrentd's --tls_cert, --tls_key and
// --tls_client_ca) with checks that turn an unusable file into a clear
// message at start-up instead of a failed listen.
#ifndef RECURRENT_SERVICE_TLS_FILES_H_
#define RECURRENT_SERVICE_TLS_FILES_H_

#include <string>

#include "absl/status/statusor.h"
#include "service/server.h"

namespace recurrent::service {

// Reads the PEM files: `cert_path` (the server certificate, optionally
// followed by intermediates), `key_path` (its private key) and, if not
// empty, `client_ca_path` (CA certificates that client certificates must
// chain to: mutual TLS). kInvalidArgument, naming the flag and the path, if
// a file cannot be read or holds no PEM certificate (or key), or if the key
// does not belong to the certificate.
absl::StatusOr<TlsOptions> LoadTlsFiles(const std::string& cert_path,
                                        const std::string& key_path,
                                        const std::string& client_ca_path);

}  // namespace recurrent::service

#endif  // RECURRENT_SERVICE_TLS_FILES_H_
