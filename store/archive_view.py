"""Reading across the archive cut (store.archive): the archive file joined to the live one, and the cut.

Kept apart from store.archive (which moves rows and checks the journal
first) so that store.journal can read across the cut without an import
circle.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from store.db import db, is_sqlite

#: Tables that move, children after their parents (inserts) and before them (deletes).
TABLES = ("sale", "line", "payment", "discount", "receipt_outcome", "print_attempt", "event", "audit")


def database_file() -> Optional[Path]:
    """The live SQLite file, or None (PostgreSQL, memory)."""
    database = db.obj
    if database is None or not is_sqlite(database):
        return None
    name = database.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def archive_path(main: Path) -> Path:
    return main.with_name(f"{main.stem}-archive.sqlite3")


def _columns(cursor, schema: str, table: str) -> List[str]:
    return [row[1] for row in cursor.execute(f'PRAGMA {schema}.table_info("{table}")').fetchall()]


@contextmanager
def joined() -> Iterator[bool]:
    """While inside: the archive (if any) attached and each moved table read as both files; yields whether."""
    main = database_file()
    path = archive_path(main) if main else None
    database = db.obj
    if path is None or not path.exists() or database.in_transaction():
        yield False
        return
    connection = database.connection()
    if any(row[1] == "archive" for row in connection.execute("PRAGMA database_list").fetchall()):
        yield True  # already joined (nested)
        return
    connection.execute("ATTACH DATABASE ? AS archive", (str(path),))
    try:
        for table in TABLES:
            names = ", ".join(f'"{c}"' for c in _columns(connection, "main", table))
            connection.execute(f'CREATE TEMP VIEW "{table}" AS SELECT {names} FROM main."{table}" '
                               f'UNION ALL SELECT {names} FROM archive."{table}"')
        yield True
    finally:
        for table in TABLES:
            connection.execute(f'DROP VIEW IF EXISTS temp."{table}"')
        connection.execute("DETACH DATABASE archive")


def cut() -> Optional[Dict]:
    """The newest archive cut recorded in the checkpoint chain (its content), or None."""
    from store.models import JournalCheckpoint

    for row in JournalCheckpoint.select().order_by(JournalCheckpoint.id.desc()):
        content = json.loads(row.content)
        if "archive" in content:
            return content
    return None
