#include "net.h"

#include <charconv>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace udal::remote {

std::string HostPort::text() const {
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port)
                                             : fmt::format("{}:{}", host, port);
}

bool parse_host_port(std::string_view text, HostPort& out, std::string& why,
                     bool allow_port_zero) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      why = fmt::format("'{}' is not [IPv6]:PORT", text);
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      why = fmt::format("'{}' has no port (HOST:PORT)", text);
      return false;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      why = fmt::format("'{}': write an IPv6 address in brackets, [ADDRESS]:PORT", text);
      return false;
    }
  }
  if (host.empty()) {
    why = fmt::format("'{}' has no host (HOST:PORT)", text);
    return false;
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535 ||
      (value == 0 && !allow_port_zero)) {
    why = fmt::format("'{}' has no valid port ('{}': 1 to 65535)", text, port);
    return false;
  }
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(value);
  return true;
}

bool is_loopback(const asio::ip::address& address) {
  if (address.is_v4()) return (address.to_v4().to_uint() >> 24) == 127;
  const auto v6 = address.to_v6();
  if (v6.is_loopback()) return true;
  if (v6.is_v4_mapped()) {
    return (asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_uint() >> 24) == 127;
  }
  return false;
}

bool resolves_to_loopback_only(const std::string& host, std::string& why) {
  boost::system::error_code ec;
  const auto literal = asio::ip::make_address(host, ec);
  if (!ec) {
    if (is_loopback(literal)) return true;
    why = fmt::format("{} is not a loopback address (127.0.0.0/8 or ::1)", host);
    return false;
  }
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  const auto results = resolver.resolve(host, "0", ec);
  if (ec || results.empty()) {
    why = fmt::format("'{}' does not resolve ({})", host, ec ? ec.message() : "no address");
    return false;
  }
  for (const auto& entry : results) {
    const auto address = entry.endpoint().address();
    if (!is_loopback(address)) {
      why = fmt::format("'{}' resolves to {}, which is not a loopback address", host,
                        address.to_string());
      return false;
    }
  }
  return true;
}

std::string openssl_errors() {
  std::string text;
  while (const unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? "no detail from OpenSSL" : text;
}

namespace {

bool tls13_only(ssl::context& context, std::string& why) {
  if (SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_3_VERSION) != 1) {
    why = fmt::format("cannot require TLS 1.3: {}", openssl_errors());
    return false;
  }
  return true;
}

bool load_identity(ssl::context& context, const TlsFiles& files, std::string& why) {
  SSL_CTX* native = context.native_handle();
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(native, files.cert.c_str()) != 1) {
    why = fmt::format("cannot load the certificate '{}': {}", files.cert, openssl_errors());
    return false;
  }
  if (SSL_CTX_use_PrivateKey_file(native, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    why = fmt::format("cannot load the private key '{}': {}", files.key, openssl_errors());
    return false;
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    why = fmt::format("the private key '{}' does not match the certificate '{}': {}", files.key,
                      files.cert, openssl_errors());
    return false;
  }
  return true;
}

bool load_ca(ssl::context& context, const std::string& ca, std::string& why) {
  ERR_clear_error();
  if (SSL_CTX_load_verify_locations(context.native_handle(), ca.c_str(), nullptr) != 1) {
    why = fmt::format("cannot load the CA certificates '{}': {}", ca, openssl_errors());
    return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<ssl::context> make_server_tls(const TlsFiles& files, std::string& why) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  if (!tls13_only(*context, why) || !load_identity(*context, files, why) ||
      !load_ca(*context, files.ca, why)) {
    return nullptr;
  }
  // The CA names the server sends, so a client with several certificates picks the right one.
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.ca.c_str())) {
    SSL_CTX_set_client_CA_list(context->native_handle(), names);
  }
  context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return context;
}

std::unique_ptr<ssl::context> make_client_tls(const TlsFiles& files, std::string& why) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  if (!tls13_only(*context, why)) return nullptr;
  if (files.ca.empty()) {
    why = "no CA certificate to check the server against (set UDAL_REMOTE_CA)";
    return nullptr;
  }
  if (!load_ca(*context, files.ca, why)) return nullptr;
  if (files.cert.empty() != files.key.empty()) {
    why = "a client certificate needs both UDAL_REMOTE_CERT and UDAL_REMOTE_KEY";
    return nullptr;
  }
  if (!files.cert.empty() && !load_identity(*context, files, why)) return nullptr;
  context->set_verify_mode(ssl::verify_peer);
  return context;
}

bool expect_server_identity(SSL* ssl, const std::string& host, std::string& why) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (!ec) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) {
      why = fmt::format("cannot expect IP address {} in the server certificate", host);
      return false;
    }
    return true;
  }
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1 ||
      SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) {
    why = fmt::format("cannot expect host name {} in the server certificate", host);
    return false;
  }
  return true;
}

std::string peer_subject(SSL* ssl) {
  X509* cert = SSL_get_peer_certificate(ssl);
  if (cert == nullptr) return "";
  std::string text;
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    if (size > 0) text.assign(data, static_cast<std::size_t>(size));
    BIO_free(bio);
  }
  X509_free(cert);
  return text;
}

std::string peer_common_name(SSL* ssl) {
  X509* cert = SSL_get_peer_certificate(ssl);
  if (cert == nullptr) return "";
  std::string name;
  char buffer[256];
  const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buffer,
                                          sizeof(buffer));
  if (n > 0) name.assign(buffer, static_cast<std::size_t>(n));
  X509_free(cert);
  return name;
}

}  // namespace udal::remote
