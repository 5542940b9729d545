"""The Schooner Flask + PostgreSQL example: a table of ships, served as JSON on port 8080.

GET /         -> {"ships": [{"id", "name", "built"}...], "pod", "node", "database"}
GET /healthz  -> 200 "ok" when the database answers (the readiness probe), else 503

Settings come from the environment, as the manifests set them: DB_HOST,
DB_PORT, DB_NAME, DB_USER (a ConfigMap), DB_PASSWORD (a Secret), POD_NAME and
NODE_NAME (the Downward API's metadata.name and spec.nodeName).

The table is created and seeded at start, idempotently, so whichever replica
comes first seeds it and the others find it done. PostgreSQL may still be
starting when the app starts: a background thread retries until it answers,
and until then the app stays up and answers 503 (not ready) rather than crash.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
from types import FrameType
from typing import Any

import psycopg2
from flask import Flask, Response, jsonify

log = logging.getLogger("flask-postgres")
app = Flask(__name__)

SHIPS = [
    (1, "Bluenose", 1921),
    (2, "America", 1851),
    (3, "Atlantic", 1903),
    (4, "Wawona", 1897),
    (5, "Thomas W. Lawson", 1902),
]
SCHEMA_LOCK = 0x5C400E  # pg_advisory_xact_lock key: one replica creates the table at a time
RETRY_INTERVAL = 2.0

_ready = threading.Event()  # set once the table exists and is seeded


def settings() -> dict[str, Any]:
    return {
        "host": os.environ.get("DB_HOST", "postgres"),
        "port": int(os.environ.get("DB_PORT", "5432")),
        "dbname": os.environ.get("DB_NAME", "schooner"),
        "user": os.environ.get("DB_USER", "schooner"),
        "password": os.environ.get("DB_PASSWORD", ""),
    }


def connect() -> Any:
    """A new connection per request: nothing stale survives a database restart."""
    return psycopg2.connect(connect_timeout=3, application_name=pod_name(), **settings())


def pod_name() -> str:
    return os.environ.get("POD_NAME") or socket.gethostname()


def ensure_schema() -> None:
    """Create and seed `ships` if missing; safe to run from every replica at once.

    `CREATE TABLE IF NOT EXISTS` alone can still fail when two sessions race
    (both insert the table's catalog row), so the transaction first takes an
    advisory lock; the seed rows are `ON CONFLICT DO NOTHING`.
    """
    conn = connect()
    try:
        with conn, conn.cursor() as cur:  # one transaction, committed on success
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            cur.execute(
                "CREATE TABLE IF NOT EXISTS ships ("
                " id integer PRIMARY KEY, name text NOT NULL, built integer NOT NULL)"
            )
            cur.executemany(
                "INSERT INTO ships (id, name, built) VALUES (%s, %s, %s)"
                " ON CONFLICT (id) DO NOTHING",
                SHIPS,
            )
    finally:
        conn.close()


def wait_for_database() -> None:
    """Run ensure_schema until PostgreSQL answers (it may still be starting), then mark ready."""
    while True:
        try:
            ensure_schema()
        except psycopg2.Error as exc:
            log.warning("database %s not ready: %s", describe_database(), str(exc).strip())
            time.sleep(RETRY_INTERVAL)
            continue
        _ready.set()
        log.info("table ships ready on %s", describe_database())
        return


class NotReady(Exception):
    """The table is not there yet (wait_for_database is still trying)."""


def query(sql: str) -> list[tuple[Any, ...]]:
    if not _ready.is_set():
        raise NotReady(f"waiting for the database {describe_database()}")
    conn = connect()
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
    finally:
        conn.close()


def describe_database() -> str:
    s = settings()
    return f"{s['host']}:{s['port']}/{s['dbname']}"


@app.get("/")
def index() -> Response | tuple[Response, int]:
    body: dict[str, Any] = {
        "pod": pod_name(),
        "node": os.environ.get("NODE_NAME", ""),
        "database": describe_database(),
    }
    try:
        rows = query("SELECT id, name, built FROM ships ORDER BY id")
    except (NotReady, psycopg2.Error) as exc:
        body["error"] = str(exc).strip()
        return jsonify(body), 503
    body["ships"] = [{"id": i, "name": name, "built": built} for i, name, built in rows]
    return jsonify(body)


@app.get("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    try:
        query("SELECT 1")
    except (NotReady, psycopg2.Error) as exc:
        return f"not ready: {str(exc).strip()}\n", 503, {"Content-Type": "text/plain"}
    return "ok", 200, {"Content-Type": "text/plain"}


def _terminate(signum: int, frame: FrameType | None) -> None:
    # PID 1 ignores SIGTERM without a handler; exit promptly when the pod stops.
    sys.exit(0)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    signal.signal(signal.SIGTERM, _terminate)
    threading.Thread(target=wait_for_database, name="wait-for-database", daemon=True).start()
    port = int(os.environ.get("PORT", "8080"))
    app.run(host="0.0.0.0", port=port, threaded=True)


if __name__ == "__main__":
    main()
