"""Automatic behaviour tags (自动标签): the owner's rules "bought category/product X at least N
times in D days → tag", applied every day by the ``behaviour_tags`` job and when a rule is added.

A *time* is one sale (receipt) that holds at least one line of the product, or of a product of
the category (the category as the hub's catalog has it today); sales in the last ``days`` days
up to and including today count. A rule owns its tag: members who meet it get the tag, members
who no longer meet any rule of that tag lose it (as the members page's segment tags do), so a
tag a rule owns is not typed by hand. Refunded sales still count (the visit happened).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from peewee import AutoField, CharField, DateTimeField, IntegerField, fn
from pydantic import BaseModel as Schema
from pydantic import ConfigDict, Field, field_validator

from hub.accounts import audit as owner_audit
from hub.catalog.models import CatalogProduct
from hub.ingest.models import BaseModel, Sale, SaleLine
from hub.members.models import MemberSale, MemberTag
from kiosk.domain.loyalty.attributes import normalize_tag
from kiosk.domain.loyalty.errors import InvalidAttribute


class TagRule(BaseModel):
    """One rule: ``scope`` (category or product) ``value`` bought ``times`` times in ``days`` days
    gives ``tag``."""

    id = AutoField()
    tag = CharField(index=True)
    scope = CharField()
    value = CharField()
    times = IntegerField()
    days = IntegerField()
    created_at = DateTimeField()
    created_by = CharField()


MODELS = [TagRule]


class TagRuleSpec(Schema):
    """A rule as the owner types it; refuses what would not make sense, naming the field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    tag: str = Field(min_length=1, max_length=20)
    scope: Literal["category", "product"]
    value: str = Field(min_length=1, max_length=40, description="a category name or a product's SKU")
    times: int = Field(ge=1, le=100)
    days: int = Field(ge=1, le=730)

    @field_validator("tag")
    @classmethod
    def _tag(cls, tag: str) -> str:
        try:
            return normalize_tag(tag)
        except InvalidAttribute as exc:
            raise ValueError(str(exc)) from exc


@dataclass(frozen=True)
class TagsApplied:
    """What one application of the rules changed: tags given and taken away, rules applied."""

    rules: int
    added: int
    removed: int
    members_by_tag: dict[str, int]


def add_rule(spec: TagRuleSpec, by: str, now: dt.datetime) -> TagRule:
    """Store a rule (audited); call inside a transaction."""
    row = TagRule.create(**spec.model_dump(), created_at=now, created_by=by)
    owner_audit.record(by, "tag_rule.add", f"tag_rule:{row.id}", now, **spec.model_dump())
    return row


def remove_rule(rule_id: int, by: str, now: dt.datetime) -> bool:
    """Delete a rule (audited); when no other rule gives its tag, the tag leaves every member
    (the rule owned it). False when there is no such rule."""
    row = TagRule.get_or_none(TagRule.id == rule_id)
    if row is None:
        return False
    row.delete_instance()
    taken: list[str] = []
    if not TagRule.select().where(TagRule.tag == row.tag).exists():
        query = MemberTag.select(MemberTag.member_id).where(MemberTag.tag == row.tag)
        taken = sorted(m for (m,) in query.tuples())
        MemberTag.delete().where(MemberTag.tag == row.tag).execute()
    owner_audit.record(by, "tag_rule.remove", f"tag_rule:{rule_id}", now, tag=row.tag, removed=taken)
    return True


def rules() -> list[TagRule]:
    """Every rule, oldest first."""
    return list(TagRule.select().order_by(TagRule.id))


def _skus(rule: TagRule) -> list[str]:
    if rule.scope == "product":
        return [rule.value]
    query = CatalogProduct.select(CatalogProduct.sku).where(CatalogProduct.category == rule.value)
    return [sku for (sku,) in query.tuples()]


def members_meeting(rule: TagRule, today: dt.date) -> set[str]:
    """The members with at least ``times`` sales holding the rule's products in its window."""
    skus = _skus(rule)
    if not skus:
        return set()
    start = (today - dt.timedelta(days=rule.days - 1)).isoformat()
    times = fn.COUNT(fn.DISTINCT(Sale.id))
    query = (
        MemberSale.select(MemberSale.member_id)
        .join(Sale, on=(Sale.id == MemberSale.sale_id))
        .join(SaleLine, on=(SaleLine.sale == Sale.id))
        .where(Sale.day >= start, Sale.day <= today.isoformat(), SaleLine.sku.in_(skus))
        .group_by(MemberSale.member_id)
        .having(times >= rule.times)
    )
    return {member for (member,) in query.tuples()}


def apply_rules(today: dt.date, now: dt.datetime, by: str = "tag_rules") -> TagsApplied:
    """Give each rule's tag to the members who meet it and take it from those who no longer do;
    inside the caller's transaction. Rules of the same tag are alternatives (either one)."""
    wanted: dict[str, set[str]] = {}
    every = rules()
    for rule in every:
        wanted.setdefault(rule.tag, set()).update(members_meeting(rule, today))
    added = removed = 0
    for tag, members in wanted.items():
        have = {m for (m,) in MemberTag.select(MemberTag.member_id).where(MemberTag.tag == tag).tuples()}
        gained, lost = sorted(members - have), sorted(have - members)
        _insert(tag, gained)
        for start in range(0, len(lost), 500):
            chunk = lost[start : start + 500]
            MemberTag.delete().where(MemberTag.tag == tag, MemberTag.member_id.in_(chunk)).execute()
        if gained or lost:
            owner_audit.record(by, "member.tags.auto", f"tag:{tag}", now, added=gained, removed=lost)
        added, removed = added + len(gained), removed + len(lost)
    return TagsApplied(len(every), added, removed, {tag: len(m) for tag, m in wanted.items()})


def _insert(tag: str, members: Iterable[str]) -> None:
    rows = [{"member_id": m, "tag": tag} for m in members]
    for start in range(0, len(rows), 500):
        MemberTag.insert_many(rows[start : start + 500]).on_conflict_ignore().execute()


def tag_counts(tags: Iterable[str]) -> dict[str, int]:
    """How many members hold each tag now."""
    wanted = sorted(set(tags))
    if not wanted:
        return {}
    query = (
        MemberTag.select(MemberTag.tag, fn.COUNT(MemberTag.member_id))
        .where(MemberTag.tag.in_(wanted))
        .group_by(MemberTag.tag)
    )
    found = dict(query.tuples())
    return {tag: int(found.get(tag, 0)) for tag in wanted}
