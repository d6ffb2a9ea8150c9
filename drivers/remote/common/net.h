// net.h — addresses, the loopback rule, and the TLS 1.3 contexts of both ends.
#ifndef UDAL_REMOTE_NET_H_
#define UDAL_REMOTE_NET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>

namespace udal::remote {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;

// "host:port", "[v6]:port".
struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string text() const;
};

// Parses |text|; |allow_port_zero| for a server that lets the system pick the port.
bool parse_host_port(std::string_view text, HostPort& out, std::string& why,
                     bool allow_port_zero = false);

// 127.0.0.0/8, ::1 and ::ffff:127.x.y.z.
bool is_loopback(const asio::ip::address& address);

// Plain TCP is allowed only on loopback: whether every address |host| resolves to is one.
// "localhost" resolves through the system; a name that does not resolve is not loopback.
bool resolves_to_loopback_only(const std::string& host, std::string& why);

struct TlsFiles {
  std::string cert;  // PEM certificate (chain) of this end
  std::string key;   // PEM private key of this end
  std::string ca;    // PEM CA certificates the peer's certificate must chain to
};

// A TLS 1.3-only server context that requires a client certificate signed by files.ca.
// Null with the reason in |why| (a file that cannot be read, a key that does not match).
std::unique_ptr<ssl::context> make_server_tls(const TlsFiles& files, std::string& why);

// A TLS 1.3-only client context that checks the server against files.ca and presents
// files.cert/files.key when given (a server with --client-ca refuses a client without).
std::unique_ptr<ssl::context> make_client_tls(const TlsFiles& files, std::string& why);

// Sets on |ssl| the name or IP address the server's certificate must carry, and SNI.
bool expect_server_identity(SSL* ssl, const std::string& host, std::string& why);

// The subject of the peer's certificate ("CN=alice,O=…"), or "" without one.
std::string peer_subject(SSL* ssl);
// The commonName of the peer's certificate, or "" without one.
std::string peer_common_name(SSL* ssl);

// The reason OpenSSL holds for the last failure of this thread (drains its error queue).
std::string openssl_errors();

}  // namespace udal::remote

#endif  // UDAL_REMOTE_NET_H_
