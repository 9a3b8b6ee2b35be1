"""Several store processes opening one new SQLite file at once (`minutes up` starts them together)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from services.store.db import _sqlite_on_connect


def _open_and_write(path: Path, start: threading.Barrier, errors: list[str], modes: list[str]) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    start.wait()
    try:
        _sqlite_on_connect(conn, None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
        conn.execute("COMMIT")
        modes.append(conn.execute("PRAGMA journal_mode").fetchone()[0])
    except sqlite3.OperationalError as error:
        errors.append(str(error))
    finally:
        conn.close()


def test_connections_racing_to_convert_a_new_file_to_wal_all_succeed(tmp_path: Path) -> None:
    # Without waiting out SQLite's deadlock answer this lost roughly one race in twenty (measured).
    errors: list[str] = []
    modes: list[str] = []
    for n in range(60):
        path = tmp_path / f"race{n}.db"
        start = threading.Barrier(4)
        threads = [threading.Thread(target=_open_and_write, args=(path, start, errors, modes)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert modes == ["wal"] * 240
