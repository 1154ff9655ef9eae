"""What every benchmark script shares: its own PostgreSQL database, made if missing."""

from __future__ import annotations


def ensure_database(url: str) -> None:
    """Create the database named at the end of `url` when it does not exist yet."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')  # name comes from our own DATABASE_URL
