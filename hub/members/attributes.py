"""Owner-defined member attributes and tags on the hub: define, set (validated), read; audited.

The rules (types, normalisation, tag shape) are in
:mod:`kiosk.domain.loyalty.attributes`; this module stores them. Callers hold
the transaction, so a rejected change writes nothing.
"""

import datetime as dt

from hub.accounts import audit as owner_audit
from hub.members.models import AttributeDef, MemberAttribute, MemberTag
from kiosk.domain.loyalty.attributes import AttributeSpec, check_value, normalize_tag
from kiosk.domain.loyalty.errors import InvalidAttribute


class AttributeErrors(Exception):
    """Values that do not fit their definitions: ``problems`` maps code (or ``tags``) to a message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def define_attribute(spec: AttributeSpec, by: str, now: dt.datetime) -> None:
    """Add an attribute, or change its labels and options; its type cannot change once members have values."""
    existing = AttributeDef.get_or_none(AttributeDef.code == spec.code)
    if existing is not None:
        before = AttributeSpec.model_validate_json(existing.spec)
        used = MemberAttribute.select().where(MemberAttribute.code == spec.code).exists()
        if before.type != spec.type and used:
            raise AttributeErrors(
                {spec.code: f"{spec.code}: members have {before.type} values / 已有会员填写，不能改类型"}
            )
        AttributeDef.update(spec=spec.model_dump_json()).where(AttributeDef.code == spec.code).execute()
    else:
        AttributeDef.create(code=spec.code, spec=spec.model_dump_json(), created_at=now)
    owner_audit.record(by, "attribute.define", f"attribute:{spec.code}", now, **spec.model_dump(mode="json"))


def attribute_specs() -> list[AttributeSpec]:
    """Every attribute the owner defined, in the order they were defined."""
    rows = AttributeDef.select().order_by(AttributeDef.created_at, AttributeDef.code)
    return [AttributeSpec.model_validate_json(r.spec) for r in rows]


def checked_values(values: dict[str, str], defined: list[AttributeSpec] | None = None) -> dict[str, str]:
    """``values`` normalised by their definitions; AttributeErrors lists every bad or unknown one.

    ``defined`` are the definitions read once by a caller checking many rows (default: read now).
    """
    specs = {s.code: s for s in (attribute_specs() if defined is None else defined)}
    checked, problems = {}, {}
    for code, raw in values.items():
        spec = specs.get(code)
        if spec is None:
            problems[code] = f"{code}: no such attribute (define it first) / 没有这个属性，请先定义"
            continue
        try:
            checked[code] = check_value(spec, raw)
        except InvalidAttribute as exc:
            problems[code] = str(exc)
    if problems:
        raise AttributeErrors(problems)
    return checked


def set_attributes(member_id: str, values: dict[str, str], by: str, now: dt.datetime) -> dict[str, str]:
    """Set the given attributes (an empty value clears one); all or nothing; return the member's values."""
    checked = checked_values(values)
    before = member_attributes(member_id)
    for code, value in checked.items():
        MemberAttribute.delete().where(
            MemberAttribute.member_id == member_id, MemberAttribute.code == code
        ).execute()
        if value:
            MemberAttribute.create(member_id=member_id, code=code, value=value)
    after = member_attributes(member_id)
    changed = {c: after.get(c, "") for c in checked if before.get(c, "") != after.get(c, "")}
    if changed:
        owner_audit.record(by, "member.attributes", f"member:{member_id}", now, **changed)
    return after


def member_attributes(member_id: str) -> dict[str, str]:
    """The member's attribute values by code (unset ones are absent)."""
    rows = (
        MemberAttribute.select().where(MemberAttribute.member_id == member_id).order_by(MemberAttribute.code)
    )
    return {r.code: r.value for r in rows}


def checked_tags(tags: list[str]) -> list[str]:
    """``tags`` normalised and deduplicated, in the order given; AttributeErrors on a bad one."""
    out: list[str] = []
    for raw in tags:
        try:
            tag = normalize_tag(raw)
        except InvalidAttribute as exc:
            raise AttributeErrors({"tags": str(exc)}) from exc
        if tag not in out:
            out.append(tag)
    return out


def set_tags(member_id: str, tags: list[str], by: str, now: dt.datetime) -> list[str]:
    """Replace the member's tags with ``tags`` (checked); audited when they change; return them sorted."""
    wanted = checked_tags(tags)
    before = member_tags(member_id)
    MemberTag.delete().where(MemberTag.member_id == member_id).execute()
    if wanted:
        MemberTag.insert_many([{"member_id": member_id, "tag": t} for t in wanted]).execute()
    after = member_tags(member_id)
    if after != before:
        owner_audit.record(by, "member.tags", f"member:{member_id}", now, before=before, after=after)
    return after


def member_tags(member_id: str) -> list[str]:
    """The member's tags, sorted."""
    return sorted(
        t for (t,) in MemberTag.select(MemberTag.tag).where(MemberTag.member_id == member_id).tuples()
    )
