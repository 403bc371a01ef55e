"""The local QC agent's own SQLite file: QC tasks by ``runningNo`` and the upload queue.

It lives on the recording device, apart from the server database (no Alembic: the schema version is
``PRAGMA user_version``). Every change is one short transaction (``BEGIN IMMEDIATE``, WAL,
``synchronous=FULL``): a process killed at any point leaves either the state before or after it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["AgentStore", "AgentUnit", "LocalTask", "LocalUpload"]

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS qc_tasks (
    running_no    TEXT PRIMARY KEY,
    seq           INTEGER NOT NULL,
    file_path     TEXT NOT NULL,
    business_type TEXT NOT NULL DEFAULT '',
    check_items   TEXT NOT NULL DEFAULT '[]',
    state         TEXT NOT NULL,
    attempt       INTEGER NOT NULL DEFAULT 0,
    progress      REAL NOT NULL DEFAULT 0,
    file_size     INTEGER,
    file_sha256   TEXT,
    verdict       TEXT,
    risk_score    INTEGER,
    report        TEXT,
    check_data    TEXT,
    error         TEXT,
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT
);
CREATE INDEX IF NOT EXISTS ix_qc_tasks_state_seq ON qc_tasks (state, seq);
CREATE TABLE IF NOT EXISTS uploads (
    running_no       TEXT PRIMARY KEY REFERENCES qc_tasks (running_no),
    operator         TEXT NOT NULL DEFAULT '',
    state            TEXT NOT NULL,
    package_id       TEXT,
    manifest         TEXT,
    size             INTEGER,
    sent             INTEGER NOT NULL DEFAULT 0,
    server_upload_id TEXT,
    recording_id     TEXT,
    task_id          TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_try_at      REAL NOT NULL DEFAULT 0,
    last_error       TEXT,
    confirmed_at     TEXT NOT NULL,
    uploaded_at      TEXT
);
CREATE INDEX IF NOT EXISTS ix_uploads_state_next ON uploads (state, next_try_at);
"""
_JSON_COLUMNS = frozenset({"check_items", "report", "check_data", "manifest"})


@dataclass(frozen=True)
class LocalTask:
    running_no: str
    seq: int
    file_path: str
    business_type: str
    check_items: list[str]
    state: str  # queued | running | done | error
    attempt: int
    progress: float
    created_at: str
    file_size: int | None = None
    file_sha256: str | None = None
    verdict: str | None = None
    risk_score: int | None = None
    report: dict[str, Any] | None = None
    check_data: dict[str, Any] | None = None
    error: str | None = None
    started_at: str | None = None
    finished_at: str | None = None


@dataclass(frozen=True)
class LocalUpload:
    running_no: str
    operator: str
    state: str  # queued | uploading | uploaded | failed
    confirmed_at: str
    sent: int = 0
    attempts: int = 0
    next_try_at: float = 0.0
    package_id: str | None = None
    manifest: dict[str, Any] | None = None
    size: int | None = None
    server_upload_id: str | None = None
    recording_id: str | None = None
    task_id: str | None = None
    last_error: str | None = None
    uploaded_at: str | None = None


def _row(cls: type[Any], row: sqlite3.Row) -> Any:
    names = {f.name for f in fields(cls)}
    keys = row.keys()  # iterating a Row gives its values
    values = {k: (json.loads(row[k]) if k in _JSON_COLUMNS and row[k] is not None else row[k]) for k in keys}
    return cls(**{k: v for k, v in values.items() if k in names})


def _encode(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (json.dumps(v, ensure_ascii=False, default=str) if k in _JSON_COLUMNS and v is not None else v)
        for k, v in values.items()
    }


_TASK_COLUMNS = frozenset(f.name for f in fields(LocalTask))
_UPLOAD_COLUMNS = frozenset(f.name for f in fields(LocalUpload))


class AgentUnit:
    """One transaction on the agent's file; nothing is kept unless ``commit()`` is called."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def commit(self) -> None:
        self._c.execute("COMMIT")
        self._c.execute("BEGIN IMMEDIATE")

    # ---- QC tasks ------------------------------------------------------------------------------

    def task(self, running_no: str) -> LocalTask | None:
        row = self._c.execute("SELECT * FROM qc_tasks WHERE running_no = ?", (running_no,)).fetchone()
        return _row(LocalTask, row) if row else None

    def add_task(self, **values: Any) -> None:
        seq = self._c.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM qc_tasks").fetchone()[0]
        self._insert("qc_tasks", {**values, "seq": seq}, _TASK_COLUMNS)

    def update_task(self, running_no: str, *, where_state: str | None = None, **values: Any) -> bool:
        """False when no row matched (e.g. the task is no longer in ``where_state``)."""
        return self._update("qc_tasks", running_no, values, _TASK_COLUMNS, where_state)

    def next_queued_task(self) -> LocalTask | None:
        row = self._c.execute("SELECT * FROM qc_tasks WHERE state = 'queued' ORDER BY seq LIMIT 1").fetchone()
        return _row(LocalTask, row) if row else None

    def requeue_running_tasks(self) -> int:
        """Tasks a killed process left ``running`` start again from scratch."""
        return self._c.execute(
            "UPDATE qc_tasks SET state = 'queued', progress = 0 WHERE state = 'running'"
        ).rowcount

    # ---- uploads -------------------------------------------------------------------------------

    def upload(self, running_no: str) -> LocalUpload | None:
        row = self._c.execute("SELECT * FROM uploads WHERE running_no = ?", (running_no,)).fetchone()
        return _row(LocalUpload, row) if row else None

    def add_upload(self, **values: Any) -> None:
        self._insert("uploads", values, _UPLOAD_COLUMNS)

    def update_upload(self, running_no: str, *, where_state: str | None = None, **values: Any) -> bool:
        return self._update("uploads", running_no, values, _UPLOAD_COLUMNS, where_state)

    def next_due_upload(self, now: float) -> LocalUpload | None:
        row = self._c.execute(
            "SELECT * FROM uploads WHERE state IN ('queued', 'uploading') AND next_try_at <= ? "
            "ORDER BY next_try_at, confirmed_at LIMIT 1",
            (now,),
        ).fetchone()
        return _row(LocalUpload, row) if row else None

    def next_upload_time(self) -> float | None:
        row = self._c.execute(
            "SELECT MIN(next_try_at) FROM uploads WHERE state IN ('queued', 'uploading')"
        ).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    # ---- helpers -------------------------------------------------------------------------------

    def _insert(self, table: str, values: dict[str, Any], allowed: frozenset[str]) -> None:
        unknown = set(values) - allowed
        if unknown:
            raise AttributeError(sorted(unknown))
        data = _encode(values)
        cols = ", ".join(data)
        marks = ", ".join("?" for _ in data)
        self._c.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", tuple(data.values()))

    def _update(
        self, table: str, running_no: str, values: dict[str, Any], allowed: frozenset[str], state: str | None
    ) -> bool:
        unknown = set(values) - allowed
        if unknown:
            raise AttributeError(sorted(unknown))
        data = _encode(values)
        sets = ", ".join(f"{k} = ?" for k in data)
        sql = f"UPDATE {table} SET {sets} WHERE running_no = ?"
        args: list[Any] = [*data.values(), running_no]
        if state is not None:
            sql += " AND state = ?"
            args.append(state)
        return self._c.execute(sql, args).rowcount == 1


class AgentStore:
    """Opens a connection per unit of work (any thread); the schema is created on first use."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.unit() as unit:
            version = unit._c.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{self.path} was written by a newer agent (schema {version})")
        conn = self._connect()
        try:
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        finally:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @contextmanager
    def unit(self) -> Iterator[AgentUnit]:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield AgentUnit(conn)
        finally:
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            finally:
                conn.close()
