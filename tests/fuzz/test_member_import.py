"""``hub member import`` on hostile CSV files: every row is imported or skipped with its line,
or the whole file is refused with one clear zh/en line; never a traceback, never a half row.

Inputs: rows of random text in the known columns (phones, names with formulas, HTML and SQL,
dates, tags), and files of random bytes (not UTF-8, NUL bytes, a lone quote).
"""

import base64
import csv
import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from hub.cli import main as hub_cli
from hub.db.schema import open_hub_database
from hub.members.models import HubMember
from tests.fuzz.budget import budget

CELL = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["13812341234", "+86 138 1234 5678", "=cmd|' /C calc'!A0", "<script>x</script>",
                     "x'); DROP TABLE hub_member; --", "2026-02-30", "1990-01-01", "VIP|宝妈", "\x00"]),
)  # fmt: skip
ROW = st.fixed_dictionaries({"phone": CELL, "name": CELL, "birthday": CELL, "tags": CELL})
SUMMARY = re.compile(r"imported (\d+) members, updated (\d+), skipped (\d+)")


@pytest.fixture(scope="module")
def import_hub(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """A SQLite hub, its business key file, and a folder for the CSV files."""
    work = tmp_path_factory.mktemp("import")
    url = f"sqlite:///{work / 'hub.db'}"
    open_hub_database(url).close()
    key = work / "business.key"
    key.write_text(base64.b64encode(bytes(range(32))).decode())
    return url, key, work


def run_import(import_hub: tuple[str, Path, Path], content: bytes):  # type: ignore[no-untyped-def]
    url, key, work = import_hub
    path = work / "members.csv"
    path.write_bytes(content)
    return CliRunner().invoke(hub_cli, ["member", "import", str(path), "--db", url, "--key-file", str(key)])


@budget(40)
@given(st.lists(ROW, max_size=6))
def test_every_row_is_imported_or_skipped_with_its_line(import_hub, rows) -> None:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    writer = csv.DictWriter(out, ["phone", "name", "birthday", "tags"])
    writer.writeheader()
    writer.writerows(rows)
    before = HubMember.select().count()
    result = run_import(import_hub, out.getvalue().encode())
    if result.exit_code == 1:  # refused whole: one clear line, nothing written
        assert isinstance(result.exception, SystemExit) and " / " in result.output
        assert HubMember.select().count() == before
        return
    assert result.exit_code == 0, result.output
    added, updated, skipped = map(int, SUMMARY.search(result.output).groups())  # type: ignore[union-attr]
    records = list(csv.DictReader(io.StringIO(out.getvalue())))  # what a reader sees (a NUL may end a cell)
    assert added + updated + skipped == len(records)
    assert HubMember.select().count() == before + added
    assert result.output.count("skipped: ") <= skipped


@budget(40)
@given(st.binary(max_size=200))
def test_a_file_of_any_bytes_gets_an_answer_not_a_traceback(import_hub, content: bytes) -> None:  # type: ignore[no-untyped-def]
    result = run_import(import_hub, b"phone,name\n" + content)
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


def test_a_file_saved_by_excel_in_gbk_is_refused_with_the_line_and_what_to_do(import_hub) -> None:  # type: ignore[no-untyped-def]
    before = HubMember.select().count()
    result = run_import(import_hub, "phone,name\n13800000001,Ann\n13800000002,张三\n".encode("gbk"))
    assert (result.exit_code, result.output) == (
        1,
        'Error: members.csv line 3 is not UTF-8 text: save it as "CSV UTF-8" and import again; nothing was'
        " imported / 第 3 行不是 UTF-8 编码：请另存为“CSV UTF-8”后重新导入，未导入任何会员\n",
    )
    assert HubMember.select().count() == before  # line 2 was fine, and still nothing was written
