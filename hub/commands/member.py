"""``hub member ...``: import, export, show and merge members from the command line."""

import base64
import csv
import datetime as dt
import io
import itertools
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hub.campaigns import runs as campaigns
from hub.db import DEFAULT_DB, transaction
from hub.db.schema import open_hub_database
from hub.members import attributes as member_attributes
from hub.members import business_keys
from hub.members import ledger as loyalty
from hub.members.feed import touch_many
from hub.members.key_store import key_store_of
from hub.members.models import HubMember
from hub.web.exports import spreadsheet_text
from kiosk.domain.loyalty import InvalidPhone, normalize_phone
from kiosk.domain.loyalty.attributes import split_tags
from kiosk.domain.loyalty.errors import InvalidAttribute
from kiosk.store.pii import PiiKey

if TYPE_CHECKING:
    from kiosk.domain.loyalty.attributes import AttributeSpec

ATTR_PREFIX = "attr:"  # CSV columns of owner-defined attributes: attr:<code>


def _key(key_file: Path | None):  # type: ignore[no-untyped-def]

    if key_file is None:
        raise click.UsageError("--key-file is required: the business data key (base64 of 32 bytes)")
    if key_file.name == business_keys.KEY_FILE:  # the hub's own file: with the previous key in a rotation
        ring = business_keys.load_ring(key_file.parent)
        if ring is not None:  # and the members' data keys beside it
            store = key_store_of(key_file.parent)
            return ring.with_data_keys(store.get) if store is not None else ring
    return PiiKey(base64.b64decode(key_file.read_text().strip()))


@click.group("member")
def member() -> None:
    """Members: import, export, show, merge."""


@member.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--store", default="", help="home store of the imported members")
def import_members(csv_file: Path, db_url: str, key_file: Path | None, store: str) -> None:
    """Import members from a CSV with columns phone, name, birthday (YYYY-MM-DD, optional),
    and optionally tags (separated by | or commas) and attr:<code> for attributes the owner defined.

    A phone that is already a member is not added again; its non-empty tags and
    attr: cells update that member. Bad rows are listed with their line and skipped.
    Rows are written in chunks of IMPORT_CHUNK, one transaction each: an import cut
    short keeps its finished chunks, and running it again adds only the rest.
    """

    key = _key(key_file)
    open_hub_database(db_url)
    specs = member_attributes.attribute_specs()  # once: a query per row was half the time
    counts = {"added": 0, "updated": 0, "skipped": 0}
    text = _readable_csv(csv_file)  # a file that cannot be read is refused before anything is written
    with io.StringIO(text, newline="") as handle:
        reader = csv.DictReader(handle)
        _check_attribute_columns(reader.fieldnames or [])
        lines = enumerate(reader, start=2)
        while chunk := list(itertools.islice(lines, IMPORT_CHUNK)):
            rows = []
            for line, row in chunk:
                try:
                    rows.append(_checked_row(row, key, specs))
                except ImportRowError as exc:
                    click.echo(f"line {line}: skipped: {exc}", err=True)
                    counts["skipped"] += 1
            with transaction():
                for outcome in _book_rows(rows, key, store, dt.datetime.now(dt.UTC)):
                    counts[outcome] += 1
    click.echo(
        f"imported {counts['added']} members, updated {counts['updated']}, skipped {counts['skipped']}"
    )


def _readable_csv(csv_file: Path) -> str:
    """The file's text when it is UTF-8 CSV that reads to the end; else one clear zh/en error."""
    content = csv_file.read_bytes()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise click.ClickException(
            f'{csv_file.name} line {line} is not UTF-8 text: save it as "CSV UTF-8" and import again; '
            "nothing was imported"
            f" / 第 {line} 行不是 UTF-8 编码：请另存为“CSV UTF-8”后重新导入，未导入任何会员"
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for _row in reader:
            pass
    except csv.Error as exc:
        raise click.ClickException(
            f"{csv_file.name} line {reader.line_num} is not CSV ({exc}); nothing was imported"
            f" / 第 {reader.line_num} 行不是有效的 CSV，未导入任何会员"
        ) from None
    return text


IMPORT_CHUNK = 2000  # CSV rows per transaction
INSERT_ROWS = 200  # member rows per INSERT statement (17 columns: well under SQLite's variable limit)


class ImportRowError(Exception):
    """A CSV row that cannot be imported; the message says why (bilingual where the rule is)."""


@dataclass(frozen=True)
class ImportRow:
    """One CSV row, checked: the phone in E.164 with its blind index, and what to store."""

    e164: str
    index: str
    name: str
    birthday: dt.date | None
    tags: list[str]
    values: dict[str, str]
    indexes: tuple[str, ...] = ()  # the phone's index under every key held (a rotation: either one)


def _check_attribute_columns(columns: list[str]) -> None:

    known = {s.code for s in member_attributes.attribute_specs()}
    unknown = [c for c in columns if c.startswith(ATTR_PREFIX) and c.removeprefix(ATTR_PREFIX) not in known]
    if unknown:
        raise click.ClickException(
            f"columns {', '.join(unknown)}: no such attribute; define it first (dashboard 会员 / Members, "
            "or POST /api/v1/attributes) / 没有这些属性，请先定义"
        )


def _checked_row(row: dict[str, str], key, specs: "list[AttributeSpec]") -> ImportRow:  # type: ignore[no-untyped-def]
    """Check one CSV row before anything is written; ImportRowError says what is wrong."""

    try:
        e164 = normalize_phone(row["phone"] or "")
        birthday = dt.date.fromisoformat(row["birthday"]) if row.get("birthday") else None
        tags = member_attributes.checked_tags(split_tags(row.get("tags") or ""))
        cells = {
            c.removeprefix(ATTR_PREFIX): v for c, v in row.items() if c and c.startswith(ATTR_PREFIX) and v
        }
        values = member_attributes.checked_values(cells, specs)
    except (InvalidPhone, ValueError, KeyError, InvalidAttribute) as exc:
        raise ImportRowError(str(exc)) from exc
    except member_attributes.AttributeErrors as exc:
        raise ImportRowError("; ".join(exc.problems.values())) from exc
    return ImportRow(
        e164,
        key.blind_index(e164),
        row.get("name") or "",
        birthday,
        tags,
        values,
        tuple(key.blind_indexes(e164)),
    )


def _book_rows(rows: list[ImportRow], key, store: str, now: dt.datetime) -> list[str]:  # type: ignore[no-untyped-def]
    """Add or update the members of one chunk (inside its transaction); each row's outcome in order.

    New members go in with multi-row inserts and one member-version update; a
    phone already a member (in the database, or earlier in the file) is updated
    with its tags and attributes, or skipped without them.
    """

    known: dict[str, str] = {}
    current = {other: r.index for r in rows for other in r.indexes or (r.index,)}
    query = HubMember.select(HubMember.id, HubMember.phone_index).where(
        HubMember.phone_index.in_(list(current))
    )
    for found in query.order_by(HubMember.created_at, HubMember.id):
        known.setdefault(current[found.phone_index], found.id)  # the earliest: a merge's survivor
    outcomes: list[str] = []
    new: list[tuple[str, ...]] = []
    extras: list[tuple[str, ImportRow]] = []
    for row in rows:
        member_id = known.get(row.index)
        if member_id is None:
            member_id = known[row.index] = str(uuid.uuid4())
            new.append(_member_fields(row, member_id, key, store, now))
            outcomes.append("added")
        elif not row.tags and not row.values:
            outcomes.append("skipped")
            continue
        else:
            outcomes.append("updated")
        if row.tags or row.values:
            extras.append((member_id, row))
    fields = [getattr(HubMember, name) for name in NEW_MEMBER_FIELDS]
    for start in range(0, len(new), INSERT_ROWS):  # tuples: peewee builds dict rows' SQL far slower
        HubMember.insert_many(new[start : start + INSERT_ROWS], fields=fields).execute()
    touch_many([values[0] for values in new])  # terminals learn the new members with the next downlink
    for member_id, row in extras:
        if row.tags:
            member_attributes.set_tags(member_id, row.tags, "import", now)
        if row.values:
            member_attributes.set_attributes(member_id, row.values, "import", now)
    return outcomes


NEW_MEMBER_FIELDS = (
    "id",
    "phone_index",
    "phone_enc",
    "name_enc",
    "birthday_enc",
    "key_id",
    "home_store",
    "source",
    "created_at",
)


def _member_fields(row: ImportRow, member_id: str, key, store: str, now: dt.datetime) -> tuple[str, ...]:  # type: ignore[no-untyped-def]
    """A new member's row in the order of NEW_MEMBER_FIELDS, personal fields encrypted and bound to the id."""
    return (
        member_id,
        row.index,
        key.encrypt(row.e164, f"{member_id}:phone"),
        key.encrypt(row.name, f"{member_id}:name") if row.name else "",
        key.encrypt(row.birthday.isoformat(), f"{member_id}:birthday") if row.birthday else "",
        key.key_id,
        store,
        "import",
        now.isoformat(timespec="seconds"),
    )


@member.command("export")
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def export_members(db_url: str, key_file: Path | None) -> None:
    """Write every member (not merged, not erased) with balances, tags and attributes as CSV to stdout."""

    key = _key(key_file)
    open_hub_database(db_url, create=False)
    specs = member_attributes.attribute_specs()
    out = csv.writer(sys.stdout)
    out.writerow(
        ["id", "phone", "name", "tier", "points", "stored_principal", "stored_bonus", "tags"]
        + [f"{ATTR_PREFIX}{s.code}" for s in specs]
    )
    query = HubMember.select().where(HubMember.merged_into.is_null(), HubMember.erased_at.is_null())
    for m in query.order_by(HubMember.created_at, HubMember.id):
        name = key.decrypt(m.name_enc, f"{m.id}:name") if m.name_enc else ""
        totals = loyalty.member_balances(m.id)
        values = member_attributes.member_attributes(m.id)
        out.writerow(
            [
                spreadsheet_text(cell)
                for cell in [
                    m.id,
                    key.decrypt(m.phone_enc, f"{m.id}:phone"),
                    name,
                    m.tier_code,
                    totals.get("points", 0),
                    totals.get("stored_principal", 0),
                    totals.get("stored_bonus", 0),
                    "|".join(member_attributes.member_tags(m.id)),
                    *(values.get(s.code, "") for s in specs),
                ]
            ]
        )


@member.command("show")
@click.argument("member_id")
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
def show(member_id: str, db_url: str) -> None:
    """Balances, tier, tags, attributes, hub-issued coupons and open reconciliation items of one member."""

    open_hub_database(db_url, create=False)
    found = HubMember.get_or_none(HubMember.id == member_id)
    if found is None:
        raise click.ClickException(f"no member {member_id} / 会员不存在")
    click.echo(f"member {member_id} tier={found.tier_code or '-'} now={loyalty.resolve(member_id)}")
    for account, amount in sorted(loyalty.member_balances(member_id).items()):
        click.echo(f"  {account}: {amount}")
    tags = member_attributes.member_tags(member_id)
    if tags:
        click.echo(f"  tags: {', '.join(tags)}")
    for code, value in member_attributes.member_attributes(member_id).items():
        click.echo(f"  attr:{code}: {value}")
    for coupon in campaigns.member_coupons(member_id):
        state = "used" if coupon.used else f"valid until {coupon.valid_until.isoformat(timespec='minutes')}"
        click.echo(f"  coupon: {coupon.name_zh} ({state})")
    for item in loyalty.open_items():
        if item["member_id"] == member_id:
            click.echo(f"  open item: {item['kind']}: {item['detail']}")


@member.command("merge")
@click.argument("survivor")
@click.argument("duplicate")
@click.option("--by", required=True, help="who merges, for the audit")
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
def merge(survivor: str, duplicate: str, by: str, db_url: str) -> None:
    """Merge DUPLICATE into SURVIVOR: balances, cards, audited."""

    open_hub_database(db_url)
    for member_id in (survivor, duplicate):
        if HubMember.get_or_none(HubMember.id == member_id) is None:
            raise click.ClickException(f"no member {member_id} / 会员不存在")
    with transaction():
        moved = loyalty.merge_members(survivor, duplicate, dt.datetime.now(dt.UTC), by)
    click.echo(f"merged {duplicate} into {survivor}: {len(moved)} entries")
