#include "api/users.h"

#include "api/auth_gate.h"
#include "api/credentials.h"
#include "api/pagination.h"
#include "api/password_policy.h"
#include "api/user_view.h"
#include "auth/password.h"
#include "http/fields.h"
#include "http/json.h"

namespace cpa::api {
namespace {

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

}  // namespace

Result<http::Response> list_users(Call& call) {
  const store::User& me = *call.user;
  store::Store& store = call.svc.store;
  const PageRequest page = requested_page(call);
  int64_t count = 1;
  std::vector<store::User> users;
  if (me.is_staff) {
    if (page.paged) {
      CPA_ASSIGN_OR_RETURN(count, store.count_users(store::UserFilter::kAll));
    }
    CPA_ASSIGN_OR_RETURN(users, store.list_users(store::UserFilter::kAll, page.offset, page.limit));
  } else if (page.offset == 0) {
    users.push_back(me);
  }
  return page_response(call, page, count, [&](http::JsonWriter& w) {
    for (const store::User& u : users) write_user(w, u);
  });
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
