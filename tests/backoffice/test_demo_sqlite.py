"""The demo's SQLite file is shared by web, worker and beat without "database is locked".

Run in a child process on a fresh SQLite file with the settings every environment starts
from (`backoffice.settings.base` reading `DATABASE_URL`), since the test database here is
PostgreSQL.
"""

import json

from backoffice.settings.base import sqlite_for_several_processes
from tests.conftest import python_in_new_process

# Two writers at once. The second reads before it writes: in SQLite's default (deferred)
# mode it would fail at once with "database is locked" while the first holds the lock.
TWO_WRITERS = """
import json, threading, time
import django
django.setup()
from django.db import connection, connections, transaction

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE stock (n integer)")
    journal = cursor.execute("PRAGMA journal_mode").fetchone()[0]
holding, errors = threading.Event(), []

def first():
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO stock VALUES (1)")
            holding.set()
            time.sleep(0.5)  # keep the write lock while the second writer starts
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        holding.set()
        connections.close_all()

def second():
    holding.wait()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM stock")
            cursor.execute("INSERT INTO stock VALUES (2)")
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connections.close_all()

threads = [threading.Thread(target=first), threading.Thread(target=second)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with connection.cursor() as cursor:
    rows = [n for (n,) in cursor.execute("SELECT n FROM stock ORDER BY n").fetchall()]
print(json.dumps({"journal": journal, "errors": errors, "rows": rows}))
"""


def test_two_processes_writing_at_once_wait_for_each_other_instead_of_failing(tmp_path):
    result = python_in_new_process(
        TWO_WRITERS,
        env={
            "DJANGO_SETTINGS_MODULE": "backoffice.settings.base",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        },
    )
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"journal": "wal", "errors": [], "rows": [1, 2]}


def test_only_sqlite_gets_the_options_and_explicit_ones_win():
    postgres = {"ENGINE": "django.db.backends.postgresql", "NAME": "bo", "OPTIONS": {}}
    assert sqlite_for_several_processes(postgres) == postgres

    sqlite = sqlite_for_several_processes(
        {"ENGINE": "django.db.backends.sqlite3", "NAME": "x", "OPTIONS": {"timeout": 5}}
    )
    assert sqlite["OPTIONS"]["timeout"] == 5
    assert sqlite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in sqlite["OPTIONS"]["init_command"]
