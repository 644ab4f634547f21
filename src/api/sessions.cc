#include "api/sessions.h"

#include "api/auth_gate.h"
#include "api/pagination.h"
#include "core/clock.h"
#include "http/json.h"

namespace cpa::api {
namespace {

void write_session(http::JsonWriter& w, const store::Session& s, bool current) {
  char buf[24];
  w.begin_object();
  w.field("id", s.id);
  w.field("created_at", iso8601_utc(s.created_at, buf));
  w.field("last_used_at", iso8601_utc(s.last_used_at, buf));
  w.field("ip", s.ip);
  w.field("user_agent", s.user_agent);
  w.field("current", current);
  w.end_object();
}

}  // namespace

Result<http::Response> list_sessions(Call& call) {
  store::Store& store = call.svc.store;
  const int64_t user_id = call.user->id;
  const PageRequest page = requested_page(call);
  int64_t count = 0;
  if (page.paged) {
    CPA_ASSIGN_OR_RETURN(count, store.count_live_sessions(user_id, call.now()));
  }
  CPA_ASSIGN_OR_RETURN(std::vector<store::Session> sessions,
                       store.live_sessions(user_id, call.now(), page.offset, page.limit));
  return page_response(call, page, count, [&](http::JsonWriter& w) {
    for (const store::Session& s : sessions) write_session(w, s, s.id == call.session_id);
  });
}

Result<http::Response> end_session(Call& call) {
  const std::string& id = call.args.hex_ids.at(0);
  store::Store& store = call.svc.store;
  CPA_RETURN_IF_ERROR(store.write([&]() -> Status {
    CPA_RETURN_IF_ERROR(reauthenticate(call));  // the caller may have been logged out since
    CPA_ASSIGN_OR_RETURN(auto session, store.live_session(call.user->id, id, call.now()));
    if (!session) return Status::NotFound();  // another user's, ended, or never one
    CPA_ASSIGN_OR_RETURN(int64_t revoked, store.revoke_family(call.user->id, id, call.now()));
    call.tally.tokens_revoked_by(metrics::Revocation::kSessionEnd, revoked);
    return Status();
  }));
  return http::Response::NoContent();
}

Result<http::Response> end_other_sessions(Call& call) {
  store::Store& store = call.svc.store;
  CPA_RETURN_IF_ERROR(store.write([&]() -> Status {
    CPA_RETURN_IF_ERROR(reauthenticate(call));
    CPA_ASSIGN_OR_RETURN(int64_t revoked,
                         store.revoke_other_families(call.user->id, call.session_id, call.now()));
    call.tally.tokens_revoked_by(metrics::Revocation::kSessionEnd, revoked);
    return Status();
  }));
  return http::Response::NoContent();
}

}  // namespace cpa::api
