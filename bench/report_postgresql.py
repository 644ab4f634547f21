"""The PostgreSQL part of the report: one node and two nodes, each row against
its own part's FastCGI ceiling and against the same scenario of this run on
SQLite (one node) or on one node (two nodes); the issue's targets; and what
the server did per request (CPU, round trips, commits, WAL flushes) and
where its backends spent their time."""

from config import POOL_NAMES

# Issue 15: PostgreSQL, as a fraction of what SQLite reached in the same run.
TO_SQLITE = {"verify": 0.5, "me": 0.5, "refresh": 1.0, "register": 1.0}
# Two nodes on one machine, as a fraction of one node's rate, per scenario.
NODES_TO_NODE = 1.0
NODES_JUDGED = ("health", "verify", "me", "refresh", "register", "obtain")


def per_request_us(row, role):
    seconds = row["cpu"].get("seconds_by_role", {}).get(role)
    return 1e6 * seconds / row["requests"] if seconds is not None and row["requests"] else None


def judge_postgresql(report):
    pg = report.get("postgresql")
    if not pg:
        return
    sqlite = report["scenarios"]
    targets = pg["targets"] = []
    for part_key, base, base_name in (("node", sqlite, "SQLite"),
                                      ("nodes", (pg.get("node") or {}).get("scenarios", {}),
                                       "one node")):
        part = pg.get(part_key)
        if not part:
            continue
        rows = part["scenarios"]
        ceiling = rows.get("fastcgi", {}).get("rps")
        mail_ok = bool((part.get("mail") or {}).get("all_delivered"))
        for key, row in rows.items():
            row["ratio_to_fastcgi"] = row["rps"] / ceiling if ceiling else None
            other = base.get(key)
            row["ratio_to_base"] = row["rps"] / other["rps"] if other else None
            goal = TO_SQLITE.get(key) if part_key == "node" else (
                NODES_TO_NODE if key in NODES_JUDGED else None)
            if goal is None:
                continue
            what = "≥ %.1f × %s" % (goal, base_name)
            extra_ok = True
            if key == "register":
                what += ", all mail delivered"
                extra_ok = mail_ok
            row["target"] = what
            row["met"] = row["ratio_to_base"] is not None and row["ratio_to_base"] >= goal \
                and extra_ok
            targets.append({"part": part["title"], "scenario": row["title"], "target": what,
                            "bound": ("%s %.0f/s" % (base_name, other["rps"])) if other
                            else "%s not run" % base_name,
                            "ratio": row["ratio_to_base"], "met": row["met"]})


def fmt(value, pattern="%.2f"):
    return "–" if value is None else pattern % value


def print_part(out, part, base_name):
    pool = part.get("pool", {})
    out.append("### %s (%s workers, %s hashers in all)"
               % (part["title"], pool.get("cpa-worker", "?"), pool.get("cpa-hasher", "?")))
    out.append("")
    out.append("| scenario | requests/s | p50 ms | p99 ms | errors | × FastCGI | × %s | target "
               "| met | µs CPU/request: workers, nginx, PostgreSQL | backend sleeps/request "
               "| transactions/request | WAL flushes/request | other CPU %% |" % base_name)
    out.append("|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|")
    for row in part["scenarios"].values():
        pgr = (row.get("postgresql") or {}).get("per_request", {})
        met = row.get("met")
        out.append("| %s | %.1f | %.2f | %.2f | %d | %s | %s | %s | %s | %s / %s / %s | %s | %s "
                   "| %s | %.0f |" % (
                       row["title"], row["rps"], row["p50_ms"], row["p99_ms"], row["errors"],
                       fmt(row.get("ratio_to_fastcgi")), fmt(row.get("ratio_to_base")),
                       row.get("target", "–"),
                       "–" if met is None else ("yes" if met else "**no**"),
                       fmt(per_request_us(row, "workers"), "%.0f"),
                       fmt(per_request_us(row, "nginx"), "%.0f"),
                       fmt(per_request_us(row, "postgres"), "%.0f"),
                       fmt(pgr.get("backend_sleeps")), fmt(pgr.get("commits")),
                       fmt(pgr.get("wal_syncs")),
                       row["cpu"]["pct_of_machine"]["other_processes"]))
    out.append("")
    if part.get("mail"):
        mail = part["mail"]
        out.append("Mail (registration): %d accepted (201), %d queued, %d sent, %d .eml files, "
                   "pending %s, failed %s, drained in %.1fs after the run: %s."
                   % (mail["accepted_201"], mail["outbox_rows"], mail["outbox_sent"],
                      mail["eml_files"], mail["pending"], mail["failed"], mail["drain_seconds"],
                      "all delivered" if mail["all_delivered"] else "**NOT all delivered**"))
        out.append("")
    out.append("Where the service's PostgreSQL backends spent their time while wrk ran "
               "(pg_stat_activity every 50 ms; share of backend-time), and the server's CPU "
               "per request (the backends' user + system, the server's other processes):")
    for row in part["scenarios"].values():
        pgr = row.get("postgresql") or {}
        shares = pgr.get("backend_time_pct")
        cpu = pgr.get("cpu_us_per_request") or {}
        if shares:
            out.append("- %s: %s; CPU %s + %s µs, other %s µs" % (row["title"], ", ".join(
                "%s %.0f %%" % kv for kv in shares.items()), fmt(cpu.get("backends_user"), "%.0f"),
                fmt(cpu.get("backends_system"), "%.0f"), fmt(cpu.get("rest"), "%.0f")))
    out.append("")
    out.append("CPU during each measured run, % of the machine "
               "(workers / nginx / mailer / PostgreSQL / wrk / other processes / idle):")
    for row in part["scenarios"].values():
        c = row["cpu"]["pct_of_machine"]
        out.append("- %s: %s / %s / %s / %s / %s / %s / %s" % (
            row["title"], c["workers"], c["nginx"], c["mailer"], c.get("postgres", 0),
            c["wrk"], c["other_processes"], c["idle"]))
    pool_mem = [m for m in part.get("memory") or [] if m["name"] in POOL_NAMES]
    if pool_mem:
        out.append("")
        out.append("Peak RSS of a worker or hasher: %.1f MB."
                   % (max(m["vm_hwm_kb"] for m in pool_mem) / 1024))
    if part.get("service_log_warnings"):
        out.append("")
        out.append("Service log warnings: " + "; ".join(
            "%s (x%d)" % kv for kv in sorted(part["service_log_warnings"].items())))
    out.append("")


def print_postgresql(report):
    pg = report.get("postgresql")
    if not pg:
        return
    judge_postgresql(report)
    s = pg["server"]
    out = ["", "## PostgreSQL %s" % s["version"], ""]
    out.append("The server: started by the bench (tests/pg/postgres.py), unix socket only, "
               "%s (a commit waits for its WAL flush, as SQLite's synchronous=FULL waits for "
               "its fsync; autovacuum visits every second so that the statements' plans follow "
               "tables that grow a hundredfold in a run, pgserver.py); every other setting the "
               "packaged default. A fresh database for "
               "each part, seeded as SQLite's (psycopg2). \"Backend sleeps\" are the "
               "voluntary context switches of the service's backends (/proc): about one per "
               "round trip when the machine is not saturated, fewer when a statement arrives before "
               "the backend sleeps; transactions (xact_commit: every statement outside an "
               "explicit transaction counts as one) and WAL flushes come from pg_stat_database "
               "and pg_stat_wal."
               % ", ".join("%s=%s" % kv for kv in s["settings"].items()))
    out.append("")
    if pg.get("node"):
        print_part(out, pg["node"], "SQLite")
    if pg.get("nodes"):
        print_part(out, pg["nodes"], "one node")
    out.append("Targets (issue 15), each a ratio to a figure of this run:")
    out.append("")
    out.append("| part | scenario | target | bound | measured | met |")
    out.append("|---|---|---|---|---:|---|")
    for t in pg["targets"]:
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            t["part"], t["scenario"], t["target"], t["bound"], fmt(t["ratio"]),
            "yes" if t["met"] else "**no**"))
    print("\n".join(out), flush=True)
