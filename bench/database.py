"""The bench's own access to the service's database, SQLite or PostgreSQL:
seeding users, and counting the outbox rows of the mail check. The SQL is
the same on both but for the placeholders and the flags (INTEGER 0/1 in
SQLite, BOOLEAN in PostgreSQL)."""

import sqlite3

USER_INSERT = ("INSERT INTO users (email, email_key, password, terms_accepted, email_verified, "
               "verified_at, is_active, date_joined) VALUES ({p}, {p}, {p}, {t}, {t}, {p}, {t}, {p})")
OUTBOX_COUNT = "SELECT count(*) FROM outbox WHERE recipient LIKE {p}"
OUTBOX_SENT = "SELECT count(*) FROM outbox WHERE recipient LIKE {p} AND status = 'sent'"


class SqliteDatabase:
    name = "SQLite"

    def __init__(self, path):
        self.path = path

    def sql(self, text):
        return text.format(p="?", t="1")

    def connect(self):
        return sqlite3.connect(self.path, timeout=30)

    def insert_users(self, rows):
        db = self.connect()
        try:
            with db:
                db.executemany(self.sql(USER_INSERT), rows)
        finally:
            db.close()

    def outbox_counts(self, prefix):
        """(rows, rows sent) of the outbox for recipients starting with prefix."""
        db = self.connect()
        try:
            queued = db.execute(self.sql(OUTBOX_COUNT), (prefix + "%",)).fetchone()[0]
            sent = db.execute(self.sql(OUTBOX_SENT), (prefix + "%",)).fetchone()[0]
        finally:
            db.close()
        return queued, sent


class PostgresDatabase:
    name = "PostgreSQL"

    def __init__(self, url):
        self.url = url

    def sql(self, text):
        return text.format(p="%s", t="TRUE")

    def connect(self):
        import psycopg2  # only the PostgreSQL part needs it (/usr/bin/python3 has it)
        return psycopg2.connect(self.url)

    def insert_users(self, rows):
        db = self.connect()
        try:
            with db, db.cursor() as cur:
                cur.executemany(self.sql(USER_INSERT), rows)
        finally:
            db.close()

    def outbox_counts(self, prefix):
        db = self.connect()
        try:
            with db.cursor() as cur:
                cur.execute(self.sql(OUTBOX_COUNT), (prefix + "%",))
                queued = cur.fetchone()[0]
                cur.execute(self.sql(OUTBOX_SENT), (prefix + "%",))
                sent = cur.fetchone()[0]
        finally:
            db.close()
        return queued, sent
