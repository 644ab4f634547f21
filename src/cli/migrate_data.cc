// `migrate-data --to postgresql://...`: moving a stopped SQLite deployment
// (the database of this configuration) into an empty PostgreSQL database.
// The store copies and verifies (Store::copy_into); this file refuses what
// must not be copied and says what comes next. The URL's password is never
// printed (without_password), nor logged (audit.cc masks the arguments).
#include <string>

#include "cli/cli.h"
#include "state/running.h"

namespace cpa::cli {

Outcome migrate_data(Context& ctx, const Args& args) {
  const std::string* url = args.value("--to");
  if (!url) return Outcome::Usage("--to postgresql://... is required");
  const std::string target = without_password(*url);
  if (!is_postgresql_url(*url)) {
    return Outcome::Usage("--to must be a postgresql:// (or postgres://) URL, got '" +
                          printable(target) + "'");
  }
  if (ctx.config.postgresql()) {
    return Outcome::Refused("this configuration uses PostgreSQL already (AUTH_DATABASE_URL " +
                            ctx.config.database_for_display() +
                            "); migrate-data copies the SQLite database of a configuration "
                            "without it");
  }
  // The copy is one snapshot of a database nobody writes: a running service
  // would go on taking logins and refreshes that the copy never sees.
  if (std::string running = state::running_service(ctx.config); !running.empty())
    return Outcome::Refused("the service is running (" + running + "): stop the service first");

  Result<store::CopyReport> copied = ctx.store.copy_into(*url, ctx.config.db_busy_timeout_ms);
  if (!copied.ok()) return copied.status();
  if (!copied->refused.empty()) return Outcome::Refused(copied->refused + " (" + target + ")");

  std::string counts;
  for (const store::TableCount& table : copied->tables) {
    counts.append(counts.empty() ? "" : ", ")
        .append(table.table)
        .append(" ")
        .append(std::to_string(table.rows));
  }
  ctx.done = "copied " + ctx.config.db_path + " into " + printable(target) + ": " + counts +
             " (rows per table, verified)";
  const bool key_in_config =
      ctx.config.raw.count("AUTH_SECRET_KEY") && !ctx.config.raw.at("AUTH_SECRET_KEY").empty();
  ctx.note =
      "next: set AUTH_DATABASE_URL to that URL in the env file (its password too, unless "
      "PGPASSWORD or ~/.pgpass gives it), then start the service; " + ctx.config.db_path +
      " is left as it was\n"
      "the secret key is not in the database: the service on PostgreSQL needs this same key (" +
      (key_in_config ? std::string("AUTH_SECRET_KEY as it is now")
                     : ctx.config.secret_key_file +
                           ", on every machine that serves; or its value as AUTH_SECRET_KEY") +
      "), or every token and code copied is invalid";
  return Outcome();
}

}  // namespace cpa::cli
