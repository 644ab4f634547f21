// `users list|show|activate|deactivate|delete|sessions|logout`: accounts
// from the shell.
#include <cstdint>
#include <cstdio>

#include "cli/cli.h"

namespace cpa::cli {

namespace {

enum class Change { kActivate, kDeactivate, kDelete };

// Applies `change` to the user named by the one operand, in one write
// transaction; says what was done (ctx.done) once it committed.
Outcome change_user(Context& ctx, const Args& args, Change change) {
  std::string done;
  CPA_RETURN_IF_ERROR(write(ctx.store, [&]() -> Outcome {
    CPA_ASSIGN_OR_RETURN(store::User user, find_user(ctx.store, args.operands[0]));
    std::string who = "user " + std::to_string(user.id) + " " + printable(user.email);
    switch (change) {
      case Change::kActivate:
        CPA_RETURN_IF_ERROR(ctx.store.set_active(user.id, store::Active::kYes));
        done = (user.is_active ? who + " was already active" : "activated " + who);
        break;
      case Change::kDeactivate:
        CPA_RETURN_IF_ERROR(ctx.store.set_active(user.id, store::Active::kNo));
        CPA_RETURN_IF_ERROR(ctx.store.revoke_user_tokens(user.id, ctx.clock.now()).status_or_ok());
        done = user.is_active ? "deactivated " + who + " and revoked its tokens"
                              : who + " was already inactive; revoked its tokens";
        break;
      case Change::kDelete:
        CPA_RETURN_IF_ERROR(ctx.store.delete_user(user));
        done = "deleted " + who + " with its codes and tokens";
        break;
    }
    return Outcome();
  }));
  ctx.done = std::move(done);
  return Outcome();
}

}  // namespace

Outcome users_list(Context& ctx, const Args& args) {
  CPA_ASSIGN_OR_RETURN(int64_t limit, limit_option(args, kDefaultListLimit, kMaxListLimit));
  const store::UserFilter filter = args.has("--staff") ? store::UserFilter::kStaff
                                                       : store::UserFilter::kAll;
  CPA_ASSIGN_OR_RETURN(std::vector<store::User> users, ctx.store.list_users(filter, 0, limit));
  Table table({"id", "email", "active", "staff", "verified", "joined", "last login"});
  for (const store::User& u : users) {
    table.add({std::to_string(u.id), printable(u.email), yes_no(u.is_active), yes_no(u.is_staff),
               yes_no(u.email_verified), iso_time(u.date_joined), iso_time(u.last_login)});
  }
  table.print();
  return Outcome();
}

Outcome users_show(Context& ctx, const Args& args) {
  CPA_ASSIGN_OR_RETURN(store::User u, find_user(ctx.store, args.operands[0]));
  // The fields of the API's user representation (API.md §7), in its order.
  const std::pair<const char*, std::string> fields[] = {
      {"id", std::to_string(u.id)},
      {"email", printable(u.email)},
      {"first_name", printable(u.first_name)},
      {"last_name", printable(u.last_name)},
      {"terms_accepted", yes_no(u.terms_accepted)},
      {"email_verified", yes_no(u.email_verified)},
      {"has_pin", yes_no(u.pin_hash.has_value())},
      {"is_active", yes_no(u.is_active)},
      {"is_staff", yes_no(u.is_staff)},
      {"date_joined", iso_time(u.date_joined)},
      {"last_login", iso_time(u.last_login)},
      {"has_password", yes_no(u.password.has_value())},
  };
  for (const auto& [key, value] : fields)
    printf("%s:%s%s\n", key, value.empty() ? "" : " ", value.c_str());
  return Outcome();
}

Outcome users_sessions(Context& ctx, const Args& args) {
  CPA_ASSIGN_OR_RETURN(store::User user, find_user(ctx.store, args.operands[0]));
  CPA_ASSIGN_OR_RETURN(std::vector<store::Session> sessions,
                       ctx.store.live_sessions(user.id, ctx.clock.now(), 0, INT64_MAX));
  auto or_dash = [](const std::string& s) { return s.empty() ? std::string("-") : printable(s); };
  Table table({"id", "created", "last used", "ip", "user agent"});
  for (const store::Session& s : sessions) {
    table.add({printable(s.id), iso_time(s.created_at), iso_time(s.last_used_at), or_dash(s.ip),
               or_dash(s.user_agent)});
  }
  table.print();
  return Outcome();
}

Outcome users_logout(Context& ctx, const Args& args) {
  const std::string* session_id = args.value("--session");
  const int64_t now = ctx.clock.now();
  std::string done;
  CPA_RETURN_IF_ERROR(write(ctx.store, [&]() -> Outcome {
    CPA_ASSIGN_OR_RETURN(store::User user, find_user(ctx.store, args.operands[0]));
    std::string who = "user " + std::to_string(user.id) + " " + printable(user.email);
    if (session_id) {
      CPA_ASSIGN_OR_RETURN(auto session, ctx.store.live_session(user.id, *session_id, now));
      if (!session) return Outcome::Refused(who + " has no live session '" + printable(*session_id) + "'");
      CPA_RETURN_IF_ERROR(ctx.store.revoke_family(user.id, session->id, now).status_or_ok());
      done = "ended session " + printable(session->id) + " of " + who;
      return Outcome();
    }
    CPA_ASSIGN_OR_RETURN(int64_t count, ctx.store.count_live_sessions(user.id, now));
    // Every token, not only those of live sessions: nothing of the account's survives.
    CPA_RETURN_IF_ERROR(ctx.store.revoke_user_tokens(user.id, now).status_or_ok());
    done = "ended " + std::to_string(count) + (count == 1 ? " session of " : " sessions of ") + who;
    return Outcome();
  }));
  ctx.done = std::move(done);
  return Outcome();
}

Outcome users_activate(Context& ctx, const Args& args) {
  return change_user(ctx, args, Change::kActivate);
}

Outcome users_deactivate(Context& ctx, const Args& args) {
  return change_user(ctx, args, Change::kDeactivate);
}

Outcome users_delete(Context& ctx, const Args& args) {
  return change_user(ctx, args, Change::kDelete);
}

}  // namespace cpa::cli
