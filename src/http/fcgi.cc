#include "http/fcgi.h"

#include <cstdlib>
#include <cstring>

#include "http/body.h"

namespace cpa::http {
namespace {

std::string param(FCGX_Request& fcgi, const char* name) {
  const char* v = FCGX_GetParam(name, fcgi.envp);
  return v ? std::string(v) : std::string();
}

// "HTTP_X_REQUEST_ID" -> "x-request-id"
std::string header_name(std::string_view cgi_name) {
  std::string out(cgi_name.substr(5));
  for (char& c : out) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool read_request(FCGX_Request& fcgi, Rng& rng, Request* out, bool* too_large) {
  *too_large = false;
  out->method = param(fcgi, "REQUEST_METHOD");
  std::string uri = param(fcgi, "REQUEST_URI");
  out->raw_path = uri.substr(0, uri.find('?'));
  out->path = param(fcgi, "DOCUMENT_URI");
  if (out->path.empty()) out->path = url_decode(out->raw_path);
  if (out->raw_path.empty()) out->raw_path = out->path;
  out->query = param(fcgi, "QUERY_STRING");
  out->content_type = param(fcgi, "CONTENT_TYPE");
  out->remote_addr = param(fcgi, "REMOTE_ADDR");
  out->server_name = param(fcgi, "SERVER_NAME");
  out->server_port = param(fcgi, "SERVER_PORT");
  std::string https = param(fcgi, "HTTPS");
  out->scheme = (https == "on" || https == "1") ? "https" : "http";
  if (std::string s = param(fcgi, "REQUEST_SCHEME"); s == "https") out->scheme = s;

  for (char** p = fcgi.envp; p && *p; ++p) {
    if (strncmp(*p, "HTTP_", 5) != 0) continue;
    const char* eq = strchr(*p, '=');
    if (!eq) continue;
    out->headers.emplace_back(header_name(std::string_view(*p, eq - *p)), std::string(eq + 1));
  }
  if (const std::string* host = out->header("host")) out->host = *host;

  // nginx passes its own (already sanitized) id as REQUEST_ID; behind another
  // proxy we sanitize the client's header ourselves.
  std::string id = param(fcgi, "REQUEST_ID");
  if (!is_sane_request_id(id)) {
    const std::string* h = out->header("x-request-id");
    id = h && is_sane_request_id(*h) ? *h : rng.hex(16);
  }
  out->request_id = std::move(id);

  std::string length = param(fcgi, "CONTENT_LENGTH");
  long long n = length.empty() ? 0 : std::strtoll(length.c_str(), nullptr, 10);
  if (n < 0) n = 0;
  if (static_cast<unsigned long long>(n) > kMaxBodyBytes) {
    *too_large = true;
    return true;
  }
  out->body.resize(static_cast<size_t>(n));
  size_t got = 0;
  while (got < out->body.size()) {
    int r = FCGX_GetStr(out->body.data() + got, static_cast<int>(out->body.size() - got), fcgi.in);
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  return got == out->body.size();
}

bool read_to_end(FCGX_Request& fcgi) {
  char buf[512];
  for (int i = 0; i < 256; ++i) {
    int n = FCGX_GetStr(buf, sizeof buf, fcgi.in);
    if (n <= 0) return FCGX_GetError(fcgi.in) == 0;
  }
  return false;  // more than we ever read: leave it to the lingering close
}

void write_response(FCGX_Request& fcgi, const Request& request, const Response& response) {
  std::string head;
  head.reserve(256);
  head.append("Status: ").append(status_line(response.status)).append("\r\n");
  if (response.status != 204) {
    head.append("Content-Type: ").append(response.content_type).append("\r\n");
    head.append("Content-Length: ").append(std::to_string(response.body.size())).append("\r\n");
  }
  head.append("X-Request-Id: ").append(request.request_id).append("\r\n");
  for (const auto& [name, value] : response.headers) {
    head.append(name).append(": ").append(value).append("\r\n");
  }
  head.append("\r\n");
  FCGX_PutStr(head.data(), static_cast<int>(head.size()), fcgi.out);
  if (request.method != "HEAD" && !response.body.empty())
    FCGX_PutStr(response.body.data(), static_cast<int>(response.body.size()), fcgi.out);
}

}  // namespace cpa::http
