"""The Work-It app's own database for ``09_reliability``: a real SQLite file in the state folder.

Three tables: ``meta`` (the file's random ``token``), ``thoughts`` (what a user submitted: email and text; a job reads
a row by its id) and ``outbox`` (a job
to enqueue, written in the same transaction as the thought it is about; a relay moves it to RQ and marks it
sent). The file is ``thoughts.sqlite3`` in the state folder, private like the rest of it (0600; SQLite gives its
``-wal`` and ``-shm`` files the database file's mode). WAL mode lets a reader (a worker's job) read the last
committed state while a request holds its transaction open: it neither waits nor sees the uncommitted row.

    with closing(thoughts_db.connect()) as db:  # closed at the end (sqlite3's own `with db` does not close)
        with db:                                # one transaction: commit at the end, roll back on an error
            thought_id = thoughts_db.add_thought(db, "ada@example.com", "Drink water")
    thoughts_db.get_thought(thought_id)         # {"id": ..., "email": ..., "text": ...} or None, from a new connection
"""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path
from typing import Any

from . import state

FILE_NAME = "thoughts.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS thoughts (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    text TEXT NOT NULL CHECK (length(text) > 0)
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    func TEXT NOT NULL,
    thought_id INTEGER NOT NULL REFERENCES thoughts(id),
    sent INTEGER NOT NULL DEFAULT 0
);
"""


def path() -> Path:
    """The database file, created private (0600) on first use. Once it exists it is never opened here: closing
    any descriptor of a SQLite file drops the locks that this process's open connections hold on it (POSIX
    locks belong to the process), and the next write fails with "disk I/O error"."""
    file = state.home() / FILE_NAME
    return file if file.exists() else state.private_file(file)


def connect(timeout: float = 10.0) -> sqlite3.Connection:
    """A new connection to the course's database, its tables created if missing. Use it as ``with db:`` for one
    transaction (Python's sqlite3 opens it at the first write and commits or rolls back at the end); close it
    yourself, for instance with ``contextlib.closing``: ``with db:`` does not."""
    db = sqlite3.connect(path(), timeout=timeout)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")  # WAL: a commit survives a crash of the process, not of the machine
    db.executescript(SCHEMA)
    return db


def token() -> str:
    """A random name of this database file, made once and kept in it: keys kept elsewhere (Redis) about its rows
    include it, so a new file, whose ids start at 1 again, never meets an old file's notes. Read from the file on
    every call (a millisecond): a copy kept in memory outlives a file deleted and made again."""
    db = connect()
    try:
        with db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('token', ?)", (secrets.token_hex(6),))
        return str(db.execute("SELECT value FROM meta WHERE key = 'token'").fetchone()[0])
    finally:
        db.close()


def add_thought(db: sqlite3.Connection, email: str, text: str) -> int:
    """Insert one thought (inside the caller's transaction: not committed here); returns its id.

    The id is random, as a server database's sequence is never rolled back: SQLite's own counter would give a
    rolled-back row's id to the next row, and a job queued for the first would find the second."""
    thought_id = secrets.randbelow(2**48) + 1
    db.execute("INSERT INTO thoughts (id, email, text) VALUES (?, ?, ?)", (thought_id, email, text))
    return thought_id


def get_thought(thought_id: int) -> dict[str, Any] | None:
    """The committed row `thought_id` as a dict, read on a connection of its own (as a worker reads it), or None."""
    db = connect()
    try:
        row = db.execute("SELECT id, email, text FROM thoughts WHERE id = ?", (thought_id,)).fetchone()
        return dict(row) if row else None
    finally:
        db.close()


def update_text(thought_id: int, text: str) -> None:
    """Change a thought's text and commit (the user fixed a typo)."""
    db = connect()
    try:
        with db:
            db.execute("UPDATE thoughts SET text = ? WHERE id = ?", (text, thought_id))
    finally:
        db.close()


def add_to_outbox(db: sqlite3.Connection, func: str, thought_id: int) -> int:
    """Write down a job to enqueue later (inside the caller's transaction); returns the outbox row's id."""
    cursor = db.execute("INSERT INTO outbox (func, thought_id) VALUES (?, ?)", (func, thought_id))
    return int(cursor.lastrowid or 0)


def unsent(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """The outbox rows no relay has marked sent yet, oldest first."""
    rows = db.execute("SELECT id, func, thought_id FROM outbox WHERE sent = 0 ORDER BY id").fetchall()
    return [dict(row) for row in rows]


def mark_sent(db: sqlite3.Connection, outbox_id: int) -> None:
    """Mark one outbox row as handed to RQ, and commit."""
    with db:
        db.execute("UPDATE outbox SET sent = 1 WHERE id = ?", (outbox_id,))


def clear_outbox() -> int:
    """Mark every waiting outbox row sent without enqueueing it (rows an earlier run left); returns how many."""
    db = connect()
    try:
        with db:
            return db.execute("UPDATE outbox SET sent = 1 WHERE sent = 0").rowcount
    finally:
        db.close()
