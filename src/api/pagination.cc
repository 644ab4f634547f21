#include "api/pagination.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/strings.h"

namespace cpa::api {
namespace {

constexpr int64_t kMaxPageLimit = 1000;  // DRF's max_limit

// Python's urllib.parse.quote_plus.
std::string quote_plus(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// True when `host` ("name[:port]") names this machine: a link built on it
// can only lead back here.
bool is_loopback_host(std::string_view host) {
  std::string_view name = host;
  if (name.starts_with("[")) {
    name = name.substr(0, name.find(']') + 1);
  } else {
    name = name.substr(0, name.find(':'));
  }
  return name == "localhost" || name == "[::1]" || name.starts_with("127.");
}

// scheme://host[:port] of this service's absolute links. The Host header is
// the client's to choose, so it is used only when it names this machine;
// otherwise the configured public URL, else the server name nginx is
// configured with (API.md §7 links must never point at a host an attacker
// chose, as Django's ALLOWED_HOSTS ensures).
std::string link_origin(const Call& call) {
  const http::Request& req = call.request;
  if (!call.svc.config.public_url.empty()) return call.svc.config.public_url;
  if (is_loopback_host(req.host)) return req.scheme + "://" + req.host;
  std::string origin = req.scheme + "://";
  if (req.server_name.empty() || req.server_name == "_") return origin + "localhost";
  origin += req.server_name;
  const bool default_port = req.server_port.empty() ||
                            (req.scheme == "http" && req.server_port == "80") ||
                            (req.scheme == "https" && req.server_port == "443");
  if (!default_port) origin.append(":").append(req.server_port);
  return origin;
}

// DRF's replace_query_param / remove_query_param on the request's absolute
// URL: the query is re-encoded with its keys sorted. `offset` < 0 removes it.
std::string page_link(const Call& call, int64_t limit, int64_t offset) {
  const http::Request& req = call.request;
  std::map<std::string, std::vector<std::string>> params;
  for (auto& [key, value] : req.query_params()) params[key].push_back(value);
  params["limit"] = {std::to_string(limit)};
  if (offset < 0) {
    params.erase("offset");
  } else {
    params["offset"] = {std::to_string(offset)};
  }
  std::string url = link_origin(call) + req.raw_path;
  char sep = '?';
  for (const auto& [key, values] : params) {
    for (const std::string& v : values) {
      url.push_back(sep);
      url.append(quote_plus(key)).append("=").append(quote_plus(v));
      sep = '&';
    }
  }
  return url;
}

// DRF's _positive_int: a decimal integer > 0, or >= 0 (its strict=False). Past
// 18 digits it is no sane page position: ignored, so offset + limit cannot overflow.
enum class Zero { kRefused, kAllowed };
std::optional<int64_t> positive_int(const std::optional<std::string>& text, Zero zero) {
  if (!text || text->size() > 18) return std::nullopt;
  std::optional<int64_t> v = parse_decimal(*text);
  if (!v || (zero == Zero::kRefused && *v == 0)) return std::nullopt;
  return v;
}

}  // namespace

PageRequest requested_page(const Call& call) {
  PageRequest page;
  std::optional<int64_t> limit = positive_int(call.request.query_param("limit"), Zero::kRefused);
  if (!limit) return page;
  page.paged = true;
  page.limit = std::min(*limit, kMaxPageLimit);
  page.offset = positive_int(call.request.query_param("offset"), Zero::kAllowed).value_or(0);
  return page;
}

http::Response page_response(const Call& call, const PageRequest& page, int64_t count,
                             const std::function<void(http::JsonWriter&)>& write_rows) {
  http::JsonWriter w;
  if (!page.paged) {
    w.begin_array();
    write_rows(w);
    w.end_array();
    return http::Response::Json(200, w.str());
  }
  w.begin_object().field("count", count).key("next");
  if (page.offset + page.limit < count) {
    w.value(page_link(call, page.limit, page.offset + page.limit));
  } else {
    w.null();
  }
  w.key("previous");
  if (page.offset <= 0) {
    w.null();
  } else {
    const int64_t previous = page.offset - page.limit;
    w.value(page_link(call, page.limit, previous <= 0 ? -1 : previous));
  }
  w.key("results").begin_array();
  write_rows(w);
  w.end_array().end_object();
  return http::Response::Json(200, w.str());
}

}  // namespace cpa::api
