"""The app-state SQLite file: one connection per call, WAL, and numbered migrations.

Every write runs in `BEGIN IMMEDIATE` so that concurrent Streamlit sessions (threads) and other
processes queue on SQLite's lock (`busy_timeout`) instead of failing on a lock upgrade. The schema
version is the highest row of `schema_migrations`; a file written by a newer Ledgerlens is refused.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from app.core.errors import AssistantError

BUSY_TIMEOUT_S = 30.0  # how long a writer waits for another writer's lock before failing
_SQLITE_MAGIC = b"SQLite format 3\x00"
_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of a DuckDB database file

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


class StoreError(AssistantError):
    """The app-state file cannot be used (the warehouse, not SQLite, newer schema, no such row)."""


def migration(fn: Migration) -> Migration:
    """Register a schema migration; migrations run once each, in the order registered."""
    MIGRATIONS.append((fn.__name__, fn))
    return fn


@migration
def m001_initial(conn: sqlite3.Connection) -> None:
    """Conversations and turns, share tokens, feedback and verified answers."""
    # statement by statement: `executescript` would commit the migration's transaction
    for statement in _INITIAL.split(";"):
        if statement.strip():
            conn.execute(statement)


_INITIAL = """
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    account TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX conversations_user ON conversations (user_id, created);
CREATE TABLE turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    question TEXT NOT NULL,
    account TEXT NOT NULL,
    as_of TEXT,
    currency TEXT,
    status TEXT NOT NULL,
    answer_json TEXT NOT NULL,
    plan_json TEXT,
    sql TEXT,
    result_hash TEXT,
    created TEXT NOT NULL,
    UNIQUE (conversation_id, seq)
);
CREATE TABLE shares (
    token TEXT PRIMARY KEY,
    turn_id INTEGER REFERENCES turns (id) ON DELETE SET NULL,
    user_id TEXT NOT NULL,
    question TEXT NOT NULL,
    account TEXT NOT NULL,
    as_of TEXT,
    currency TEXT,
    plan_json TEXT,
    sql TEXT,
    result_hash TEXT,
    created TEXT NOT NULL
);
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    turn_id INTEGER NOT NULL REFERENCES turns (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    correction TEXT NOT NULL DEFAULT '',
    plan_json TEXT,
    sql TEXT,
    result_hash TEXT,
    created TEXT NOT NULL,
    UNIQUE (turn_id, user_id)
);
CREATE TABLE verified (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    turn_id INTEGER REFERENCES turns (id) ON DELETE SET NULL,
    account TEXT,
    question TEXT NOT NULL,
    as_of TEXT,
    currency TEXT,
    plan_json TEXT,
    plan_key TEXT,
    sql TEXT,
    answer_json TEXT NOT NULL,
    verified_by TEXT NOT NULL,
    verified_at TEXT NOT NULL,
    model_sha TEXT NOT NULL,
    schema_fingerprint TEXT NOT NULL
);
CREATE INDEX verified_lookup ON verified (plan_key, account);
"""


@migration
def m002_conversation_context(conn: sqlite3.Connection) -> None:
    """A conversation's fixed as-of date and reporting currency (the HTTP API sets them)."""
    conn.execute("ALTER TABLE conversations ADD COLUMN as_of TEXT")
    conn.execute("ALTER TABLE conversations ADD COLUMN currency TEXT")


def check_state_file(path: Path, warehouse: Path | None = None) -> None:
    """Refuse a path that is the warehouse, a DuckDB file, or any existing non-SQLite file."""
    if warehouse is not None and path.resolve() == warehouse.resolve():
        raise StoreError(f"The app-state file {path} is the warehouse; set `state_path` elsewhere.")
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as f:
        head = f.read(16)
    if head[8:12] == _DUCKDB_MAGIC:
        raise StoreError(f"{path} is a DuckDB database (a warehouse?), not the app-state file.")
    if head != _SQLITE_MAGIC:
        raise StoreError(f"{path} is not a SQLite file; set `state_path` to a new file.")


class Database:
    """A SQLite file opened per call; safe to share between threads and processes."""

    def __init__(self, path: Path, warehouse: Path | None = None) -> None:
        """Check the path, create the file and its folder if needed, and apply migrations."""
        check_state_file(path, warehouse)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Held open while this object lives: when the last connection to a WAL file closes,
        # SQLite checkpoints and deletes the WAL (an fsync), which would tax every call.
        self._anchor = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        self._anchor.execute("PRAGMA journal_mode = WAL")
        with self.write() as conn:
            _migrate(conn)
        self._anchor.execute("SELECT count(*) FROM sqlite_master").fetchone()  # joins the WAL

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh autocommit connection with foreign keys on, closed afterwards."""
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A connection inside `BEGIN IMMEDIATE … COMMIT` (rolled back on an exception)."""
        with self.connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        """Let go of the file (checkpointing its WAL); later calls open it again."""
        self._anchor.close()

    def version(self) -> int:
        """The schema version of the file (the number of migrations applied)."""
        with self.connect() as conn:
            return _version(conn)


def _version(conn: sqlite3.Connection) -> int:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT)"
    )
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0])


def _migrate(conn: sqlite3.Connection) -> None:
    current = _version(conn)
    if current > len(MIGRATIONS):
        raise StoreError(
            f"The app-state file has schema version {current}; this Ledgerlens knows "
            f"{len(MIGRATIONS)}. Upgrade Ledgerlens or set `state_path` to another file."
        )
    for version, (name, fn) in enumerate(MIGRATIONS[current:], start=current + 1):
        fn(conn)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, name))
