#include "api/users.h"

#include <algorithm>
#include <map>

#include "api/auth_gate.h"
#include "api/credentials.h"
#include "api/password_policy.h"
#include "api/user_view.h"
#include "auth/password.h"
#include "core/strings.h"
#include "http/fields.h"
#include "http/json.h"

namespace cpa::api {
namespace {

constexpr int64_t kMaxPageLimit = 1000;  // DRF's max_limit
constexpr size_t kNameMaxLength = 150;

// The user the path names: users/me/ is the caller; users/<id>/ is anyone for
// staff, else only the caller (another id is 404, as if it did not exist).
Result<store::User> target_user(Call& call) {
  const store::User& me = *call.user;
  const std::vector<int64_t>& ids = call.args.ids;
  if (ids.empty() || ids[0] == me.id) return me;
  if (!me.is_staff) return Status::NotFound();
  CPA_ASSIGN_OR_RETURN(auto user, call.svc.store.user_by_id(ids[0]));
  if (!user) return Status::NotFound();
  return std::move(*user);
}

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

// DRF's _positive_int: a decimal integer > 0 (or >= 0 when !strict). Past
// 18 digits it is no sane page position: ignored, so offset + limit cannot overflow.
std::optional<int64_t> positive_int(const std::optional<std::string>& text, bool strict) {
  if (!text || text->size() > 18) return std::nullopt;
  std::optional<int64_t> v = parse_decimal(*text);
  if (!v || (strict && *v == 0)) return std::nullopt;
  return v;
}

void write_users(http::JsonWriter& w, const std::vector<store::User>& users) {
  w.begin_array();
  for (const store::User& u : users) write_user(w, u);
  w.end_array();
}

}  // namespace

Result<http::Response> list_users(Call& call) {
  const store::User& me = *call.user;
  store::Store& store = call.svc.store;
  // LimitOffsetPagination: only a valid `limit` turns pagination on.
  std::optional<int64_t> limit = positive_int(call.request.query_param("limit"), true);
  http::JsonWriter w;
  if (!limit) {
    std::vector<store::User> users;
    if (me.is_staff) {
      CPA_ASSIGN_OR_RETURN(users, store.list_users(0, INT64_MAX, false));
    } else {
      users.push_back(me);
    }
    write_users(w, users);
    return http::Response::Json(200, w.str());
  }

  *limit = std::min(*limit, kMaxPageLimit);
  int64_t offset = positive_int(call.request.query_param("offset"), false).value_or(0);
  int64_t count = 1;
  std::vector<store::User> page;
  if (me.is_staff) {
    CPA_ASSIGN_OR_RETURN(count, store.count_users(false));
    CPA_ASSIGN_OR_RETURN(page, store.list_users(offset, *limit, false));
  } else if (offset == 0) {
    page.push_back(me);
  }
  w.begin_object().field("count", count).key("next");
  if (offset + *limit < count) {
    w.value(page_link(call, *limit, offset + *limit));
  } else {
    w.null();
  }
  w.key("previous");
  if (offset <= 0) {
    w.null();
  } else {
    w.value(page_link(call, *limit, offset - *limit <= 0 ? -1 : offset - *limit));
  }
  w.key("results");
  write_users(w, page);
  w.end_object();
  return http::Response::Json(200, w.str());
}

Result<http::Response> get_user(Call& call) {
  CPA_ASSIGN_OR_RETURN(store::User user, target_user(call));
  return http::Response::Json(200, user_json(user));
}

Result<http::Response> update_user(Call& call) {
  CPA_ASSIGN_OR_RETURN(store::User user, target_user(call));
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  // Only the names are writable; other fields sent are ignored.
  const http::Text name{.required = false, .allow_blank = true, .max_length = kNameMaxLength};
  std::optional<std::string> first = form.text("first_name", name);
  std::optional<std::string> last = form.text("last_name", name);
  CPA_RETURN_IF_ERROR(form.status());
  // The names not sent come from the row as it is inside the transaction,
  // so that two PATCHes of different names both stand.
  store::Store& store = call.svc.store;
  store::User updated;
  CPA_RETURN_IF_ERROR(store.write([&]() -> Status {
    CPA_ASSIGN_OR_RETURN(auto row, store.user_by_id(user.id));
    if (!row) return Status::NotFound();
    if (first) row->first_name = *first;
    if (last) row->last_name = *last;
    updated = std::move(*row);
    return store.set_names(updated.id, updated.first_name, updated.last_name);
  }));
  return http::Response::Json(200, user_json(updated));
}

Result<http::Response> delete_user(Call& call) {
  CPA_ASSIGN_OR_RETURN(store::User user, target_user(call));
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  std::optional<std::string> password = form.text("current_password", http::Text{.trim = false});
  CPA_RETURN_IF_ERROR(form.status());
  // The caller's own password, also when staff deletes someone else.
  CPA_RETURN_IF_ERROR(check_current_password(call, *call.user, *password, "current_password"));
  store::Store& store = call.svc.store;
  CPA_RETURN_IF_ERROR(store.write([&]() -> Status {
    CPA_RETURN_IF_ERROR(reauthenticate(call));  // the password checked is still the caller's
    return store.delete_user(user);  // codes, tokens and send history too
  }));
  return http::Response::NoContent();
}

Result<http::Response> set_password(Call& call) {
  CPA_ASSIGN_OR_RETURN(const http::Body* body, call.body());
  http::Form form(*body);
  const store::User& me = *call.user;
  std::optional<std::string> current = form.text("current_password", http::Text{.trim = false});
  std::optional<std::string> password = read_new_password(form, "new_password", me.email);
  check_repeat(form, password, "re_new_password", kPasswordMismatch);
  if (current)
    CPA_RETURN_IF_ERROR(check_current_password(call, me, *current, form, "current_password"));
  CPA_RETURN_IF_ERROR(form.status());

  std::string hash = auth::hash_password(*password, call.svc.config.pbkdf2_iterations, call.svc.rng);
  store::Store& store = call.svc.store;
  CPA_RETURN_IF_ERROR(store.write([&]() -> Status {
    // A concurrent change of the password (which revokes this token) wins.
    CPA_RETURN_IF_ERROR(reauthenticate(call));
    return replace_password(call, *call.user, hash);
  }));
  return http::Response::NoContent();
}

}  // namespace cpa::api
