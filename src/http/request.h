// Request: what a handler knows of an HTTP request, independent of FastCGI.
// Built by http/fcgi.cc from the FastCGI params and body; tests build one by hand.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cpa::http {

struct Request {
  std::string method;        // "GET", as sent
  std::string path;          // decoded path, e.g. "/api/v1/auth/users/me/"
  std::string raw_path;      // the path as sent (still %-encoded), for absolute links
  std::string query;         // raw query string, without '?'
  std::string content_type;  // exactly as sent
  std::string body;
  std::string remote_addr;
  std::string scheme = "http";  // "https" behind TLS
  std::string host;             // Host header (with port when sent): the client's choice
  std::string server_name;      // nginx's server_name for this server (SERVER_NAME)
  std::string server_port;      // the port nginx accepted it on (SERVER_PORT)
  std::string request_id;       // sanitized or generated; echoed in X-Request-Id
  // Request headers, names lower-cased with '-' ("authorization", "x-request-id").
  std::vector<std::pair<std::string, std::string>> headers;

  const std::string* header(std::string_view lower_name) const;
  // The value of `name` in the query string, URL-decoded; nullopt when absent.
  std::optional<std::string> query_param(std::string_view name) const;
  // Every query parameter, decoded, in order.
  std::vector<std::pair<std::string, std::string>> query_params() const;
};

// True when `id` is a sane client-supplied request id: 1 to 128 of [A-Za-z0-9._:-].
bool is_sane_request_id(std::string_view id);

// Decodes %XX and '+' as in application/x-www-form-urlencoded.
std::string url_decode(std::string_view in);

}  // namespace cpa::http
