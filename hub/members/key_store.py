"""The member key store: each member's data key, wrapped under the business key, outside the
database that is backed up.

A member's phone, name, birthday and e-mail are encrypted under a data key of their own
(:meth:`kiosk.store.pii.PiiKey.encrypt_for`); that key, wrapped under the business key, lives
here and nowhere else at the hub: not in ``hub_member``, not in the raw ``member.registered``
body (blanked as it is stored, :mod:`hub.members.raw_copies`), so not in any database backup.
Erasure deletes the member's row here, and every copy of their personal data, in the live
database, the raw events and every backup taken earlier, opens for nobody (crypto-shredding;
docs/security.md).

The store is one SQLite file in the hub's data directory (``member_keys.db``, 0600), for a
SQLite hub and a PostgreSQL hub alike: a ``pg_dump`` or the SQLite backup API of the hub's
database can never include it (nothing to remember to exclude), every hub process already shares
the data directory for ``business.key``, and it has its own sealed backup
(:func:`hub.db.backup.take_key_store_backup`). It is not in the hub database's transactions: a
key is written (and committed) before the member that needs it, so a crash leaves at worst a key
for a member the terminal will send again; an erasure deletes the key first.
"""

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["KEY_STORE_FILE", "MemberKeyStore", "key_store_of"]

KEY_STORE_FILE = "member_keys.db"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS member_key ("
    " member_id TEXT PRIMARY KEY,"
    " wrapped TEXT NOT NULL,"  # <business key id>:<base64>, see PiiKey.wrap_data_key
    " key_id TEXT NOT NULL)"  # the business key it is wrapped under (rotation re-wraps)
)


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class MemberKeyStore:
    """Members' wrapped data keys in the SQLite file ``path`` (made, 0600, at first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            if not self.path.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_SCHEMA)
            self._local.db = db
        return db

    def get(self, member_id: str) -> str | None:
        """The member's wrapped data key, or None (no data key: registered before them, or erased)."""
        row = (
            self._db().execute("SELECT wrapped FROM member_key WHERE member_id = ?", (member_id,)).fetchone()
        )
        return row[0] if row else None

    def get_many(self, member_ids: Iterable[str]) -> dict[str, str]:
        """{member id: wrapped data key} for those of ``member_ids`` that have one."""
        ids, found = list(member_ids), {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ", ".join("?" * len(part))
            rows = self._db().execute(
                f"SELECT member_id, wrapped FROM member_key WHERE member_id IN ({marks})", part
            )
            found.update(dict(rows.fetchall()))
        return found

    def put(self, member_id: str, wrapped: str) -> str:
        """Keep the member's wrapped data key; the first one kept wins (a resent registration carries
        the same). Returns the one held."""
        key_id = wrapped.rpartition(":")[0]
        db = self._db()
        db.execute(
            "INSERT INTO member_key (member_id, wrapped, key_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (member_id, wrapped, key_id),
        )
        held = self.get(member_id)
        assert held is not None
        return held

    def put_many(self, wrapped: dict[str, str]) -> dict[str, str]:
        """:meth:`put` for many members in one transaction (one disk sync, not one per member);
        returns the keys held for them."""
        db = self._db()
        with _transaction(db):
            db.executemany(
                "INSERT INTO member_key (member_id, wrapped, key_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(member_id, key, key.rpartition(":")[0]) for member_id, key in wrapped.items()],
            )
        return self.get_many(wrapped)

    def replace_many(self, changes: list[tuple[str, str, str]]) -> list[str]:
        """Swap each (member id, old, new) wrapped key for ``new`` (the same key re-wrapped) if it is
        still ``old``, in one transaction; return the members swapped."""
        db, done = self._db(), []
        with _transaction(db):
            for member_id, old, new in changes:
                swapped = db.execute(
                    "UPDATE member_key SET wrapped = ?, key_id = ? WHERE member_id = ? AND wrapped = ?",
                    (new, new.rpartition(":")[0], member_id, old),
                )
                if swapped.rowcount == 1:
                    done.append(member_id)
        return done

    def delete(self, member_ids: Iterable[str]) -> int:
        """Forget the members' data keys (erasure); return how many there were."""
        ids = list(member_ids)
        marks = ", ".join("?" * len(ids))
        return self._db().execute(f"DELETE FROM member_key WHERE member_id IN ({marks})", ids).rowcount

    def not_under(self, key_id: str, after: str, limit: int) -> list[tuple[str, str]]:
        """(member id, wrapped) of up to ``limit`` keys after ``after`` (by id) not under ``key_id``."""
        rows = self._db().execute(
            "SELECT member_id, wrapped FROM member_key WHERE member_id > ? AND key_id != ?"
            " ORDER BY member_id LIMIT ?",
            (after, key_id, limit),
        )
        return rows.fetchall()

    def count_by_key(self) -> dict[str, int]:
        """How many data keys are wrapped under each business key id."""
        rows = self._db().execute("SELECT key_id, COUNT(*) FROM member_key GROUP BY key_id")
        return {key_id: int(count) for key_id, count in rows.fetchall()}

    def copy_to(self, target: Path) -> None:
        """A consistent copy of the store into the new file ``target`` (the SQLite backup API)."""
        dest = sqlite3.connect(target)
        try:
            self._db().backup(dest)
        finally:
            dest.close()

    def close(self) -> None:
        """Close this thread's connection (the file stays)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def key_store_of(data_dir: Path) -> MemberKeyStore | None:
    """The member key store in ``data_dir`` when there is one (a hub that has registered members);
    None without one (nothing is created: for commands that only read)."""
    path = data_dir / KEY_STORE_FILE
    return MemberKeyStore(path) if path.exists() else None
