"""The HTTP baseline of case a: a bare WSGI app that runs the same SQL statements the API
ran (read from $BENCH_SQL_FILE) with psycopg2 and answers their rows as orjson.

    DATABASE_URL=… BENCH_SQL_FILE=… gunicorn bench.raw_wsgi:application
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlparse

import orjson
import psycopg2

_STATEMENTS = json.loads(open(os.environ["BENCH_SQL_FILE"]).read())  # noqa: SIM115
_url = urlparse(os.environ["DATABASE_URL"])
_conn = None


def application(environ, start_response):
    global _conn
    if _conn is None:
        _conn = psycopg2.connect(
            host=_url.hostname, port=_url.port, user=_url.username, dbname=_url.path[1:]
        )
        _conn.autocommit = True
    out = []
    with _conn.cursor() as cur:
        for sql in _STATEMENTS:
            cur.execute(sql)
            if cur.description:
                names = [d[0] for d in cur.description]
                out.append([dict(zip(names, row, strict=True)) for row in cur.fetchall()])
    body = orjson.dumps(out, default=str)
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])  # fmt: skip
    return [body]
