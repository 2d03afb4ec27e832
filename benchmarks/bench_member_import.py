"""``hub member import`` of N members into a fresh SQLite hub database, against raw sqlite3.

The import is the real command (CSV parsing, phone validation, blind index,
AES-GCM of phone, name and birthday, member rows, member versions). Two figures
run in the same process on the same rows, so the ratio holds under the shared
machine's load:

- ``raw_s``: sqlite3 ``executemany`` of the finished ``hub_member`` and
  ``member_version`` rows (ids, indexes and ciphertexts computed beforehand)
  in one transaction: the floor for writing these rows;
- ``prepare_s``: the per-row work in Python alone (normalise, blind index,
  three encryptions), which no way of writing can avoid.

Prints one JSON object. ``python benchmarks/bench_member_import.py [--members 20000 100000]``
"""

import argparse
import base64
import json
import os
import platform
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

from click.testing import CliRunner

import hub.members.attributes
import hub.members.feed  # noqa: F401
from hub.cli import main as hub_main
from hub.db.schema import open_hub_database
from kiosk.domain.loyalty import normalize_phone
from kiosk.store.pii import PiiKey

KEY = bytes(range(32))


def write_csv(path: Path, count: int) -> None:
    """``count`` members: phone, name, birthday."""
    rows = [f"+86138{n:08d},会员{n},1990-01-{n % 28 + 1:02d}" for n in range(count)]
    path.write_text("phone,name,birthday\n" + "\n".join(rows) + "\n", encoding="utf-8")


def hub_import(work: Path, csv_file: Path, count: int) -> float:
    """Seconds ``hub member import`` takes for ``csv_file``."""
    key_file = work / "business.key"
    key_file.write_text(base64.b64encode(KEY).decode())
    args = [
        "member",
        "import",
        str(csv_file),
        "--db",
        f"sqlite:///{work / 'hub.db'}",
        "--key-file",
        str(key_file),
    ]
    started = time.perf_counter()
    result = CliRunner().invoke(hub_main, args, catch_exceptions=False)
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0 and f"imported {count} members" in result.output, result.output
    return elapsed


def prepared_rows(count: int) -> tuple[list[dict[str, object]], float]:
    """The ``hub_member`` rows the import writes, by column, and the seconds the per-row Python work took."""
    key = PiiKey(KEY)
    started = time.perf_counter()
    rows = []
    for n in range(count):
        member_id, e164 = str(uuid.uuid4()), normalize_phone(f"+86138{n:08d}")
        birthday = f"1990-01-{n % 28 + 1:02d}"
        rows.append(
            {
                "id": member_id,
                "phone_index": key.blind_index(e164),
                "phone_enc": key.encrypt(e164, f"{member_id}:phone"),
                "name_enc": key.encrypt(f"会员{n}", f"{member_id}:name"),
                "birthday_enc": key.encrypt(birthday, f"{member_id}:birthday"),
                "source": "import",
                "created_at": "2026-11-24T08:00:00+00:00",
                "key_id": key.key_id,
            }
        )
    return rows, time.perf_counter() - started


def raw_insert(work: Path, rows: list[dict[str, object]]) -> float:
    """Seconds for sqlite3 executemany of ``rows`` into an empty hub_member table, one transaction.

    Columns the rows leave out get ``""`` when NOT NULL and NULL otherwise, as the import writes them;
    the statement names every column of today's table, so a new column can never go unnoticed.
    """
    path = work / "raw.db"
    open_hub_database(f"sqlite:///{path}").close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    columns = [(r[1], bool(r[3])) for r in conn.execute("PRAGMA table_info(hub_member)")]
    names = [name for name, _ in columns]
    sql = f"INSERT INTO hub_member ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    values = [tuple(row.get(name, "" if not_null else None) for name, not_null in columns) for row in rows]
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(sql, values)
    versions = [(row["id"], n + 1) for n, row in enumerate(rows)]
    conn.executemany("INSERT INTO member_version (member_id, version) VALUES (?, ?)", versions)
    conn.execute("UPDATE member_feed SET version = ? WHERE id = 1", (len(rows),))
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def run(count: int) -> dict[str, object]:
    """One size on fresh databases."""
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        work = Path(tmp)
        csv_file = work / "members.csv"
        write_csv(csv_file, count)
        imported = hub_import(work, csv_file, count)
        rows, prepare = prepared_rows(count)
        raw = raw_insert(work, rows)
    return {
        "members": count,
        "import_s": round(imported, 2),
        "members_per_s": round(count / imported),
        "prepare_s": round(prepare, 2),
        "raw_s": round(raw, 3),
        "import_vs_raw": round(imported / raw, 1),
        "import_vs_prepare_plus_raw": round(imported / (prepare + raw), 2),
    }


def main() -> None:
    """Run every size and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, nargs="+", default=[20000])
    results = [run(count) for count in parser.parse_args().members]
    machine = {"cpus": os.cpu_count(), "load_avg": os.getloadavg(), "python": platform.python_version()}
    print(json.dumps({"hub_db": "sqlite", "runs": results, **machine}, indent=2))


if __name__ == "__main__":
    main()
