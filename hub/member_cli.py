"""``hub member ...``: import, export, show and merge members from the command line."""

import base64
import csv
import datetime as dt
import sys
import uuid
from pathlib import Path

import click

DEFAULT_DB = "sqlite:///var/hub/hub.db"
ATTR_PREFIX = "attr:"  # CSV columns of owner-defined attributes: attr:<code>


def _key(key_file: Path | None):  # type: ignore[no-untyped-def]
    from kiosk.store.pii import PiiKey

    if key_file is None:
        raise click.UsageError("--key-file is required: the business data key (base64 of 32 bytes)")
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
    """
    from hub.db import open_hub_database, transaction

    key = _key(key_file)
    open_hub_database(db_url)
    counts = {"added": 0, "updated": 0, "skipped": 0}
    with csv_file.open(newline="", encoding="utf-8-sig") as handle, transaction():
        reader = csv.DictReader(handle)
        _check_attribute_columns(reader.fieldnames or [])
        for line, row in enumerate(reader, start=2):
            try:
                outcome = _import_row(row, key, store)
            except ImportRowError as exc:
                click.echo(f"line {line}: skipped: {exc}", err=True)
                outcome = "skipped"
            counts[outcome] += 1
    click.echo(
        f"imported {counts['added']} members, updated {counts['updated']}, skipped {counts['skipped']}"
    )


class ImportRowError(Exception):
    """A CSV row that cannot be imported; the message says why (bilingual where the rule is)."""


def _check_attribute_columns(columns: list[str]) -> None:
    from hub import member_attributes

    known = {s.code for s in member_attributes.attribute_specs()}
    unknown = [c for c in columns if c.startswith(ATTR_PREFIX) and c.removeprefix(ATTR_PREFIX) not in known]
    if unknown:
        raise click.ClickException(
            f"columns {', '.join(unknown)}: no such attribute; define it first (dashboard 会员 / Members, "
            "or POST /api/v1/attributes) / 没有这些属性，请先定义"
        )


def _import_row(row: dict[str, str], key, store: str) -> str:  # type: ignore[no-untyped-def]
    """Add or update one member from a CSV row; return added, updated or skipped."""
    from hub import member_attributes
    from hub.loyalty_models import HubMember
    from hub.member_feed import touch
    from kiosk.domain.loyalty import InvalidPhone, normalize_phone
    from kiosk.domain.loyalty.attributes import split_tags
    from kiosk.domain.loyalty.errors import InvalidAttribute

    try:
        e164 = normalize_phone(row["phone"] or "")
        birthday = dt.date.fromisoformat(row["birthday"]) if row.get("birthday") else None
        tags = split_tags(row.get("tags") or "")
        cells = {
            c.removeprefix(ATTR_PREFIX): v for c, v in row.items() if c and c.startswith(ATTR_PREFIX) and v
        }
        values = member_attributes.checked_values(cells)
    except (InvalidPhone, ValueError, KeyError, InvalidAttribute) as exc:
        raise ImportRowError(str(exc)) from exc
    except member_attributes.AttributeErrors as exc:
        raise ImportRowError("; ".join(exc.problems.values())) from exc
    now = dt.datetime.now(dt.UTC)
    index = key.blind_index(e164)
    existing = HubMember.get_or_none(HubMember.phone_index == index)
    if existing is None:
        member_id = str(uuid.uuid4())
        HubMember.create(
            id=member_id,
            phone_index=index,
            phone_enc=key.encrypt(e164, f"{member_id}:phone"),
            name_enc=key.encrypt(row["name"], f"{member_id}:name") if row.get("name") else "",
            birthday_enc=key.encrypt(birthday.isoformat(), f"{member_id}:birthday") if birthday else "",
            home_store=store,
            source="import",
            created_at=now.isoformat(timespec="seconds"),
        )
        touch(member_id)  # terminals learn the new member with the next downlink
    elif not tags and not values:
        return "skipped"
    member_id = existing.id if existing else member_id
    if tags:
        member_attributes.set_tags(member_id, tags, "import", now)
    if values:
        member_attributes.set_attributes(member_id, values, "import", now)
    return "updated" if existing else "added"


@member.command("export")
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def export_members(db_url: str, key_file: Path | None) -> None:
    """Write every member (not merged, not erased) with balances, tags and attributes as CSV to stdout."""
    from hub import loyalty, member_attributes
    from hub.db import open_hub_database
    from hub.loyalty_models import HubMember

    key = _key(key_file)
    open_hub_database(db_url)
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
        )


@member.command("show")
@click.argument("member_id")
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
def show(member_id: str, db_url: str) -> None:
    """Balances, tier and open reconciliation items of one member."""
    from hub import loyalty
    from hub.db import open_hub_database
    from hub.loyalty_models import HubMember

    open_hub_database(db_url)
    found = HubMember.get_or_none(HubMember.id == member_id)
    if found is None:
        raise click.ClickException(f"no member {member_id} / 会员不存在")
    click.echo(f"member {member_id} tier={found.tier_code or '-'} now={loyalty.resolve(member_id)}")
    for account, amount in sorted(loyalty.member_balances(member_id).items()):
        click.echo(f"  {account}: {amount}")
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
    from hub import loyalty
    from hub.db import open_hub_database, transaction
    from hub.loyalty_models import HubMember

    open_hub_database(db_url)
    for member_id in (survivor, duplicate):
        if HubMember.get_or_none(HubMember.id == member_id) is None:
            raise click.ClickException(f"no member {member_id} / 会员不存在")
    with transaction():
        moved = loyalty.merge_members(survivor, duplicate, dt.datetime.now(dt.UTC), by)
    click.echo(f"merged {duplicate} into {survivor}: {len(moved)} entries")
