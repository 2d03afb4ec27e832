"""The hub's member tables: members, cards, the authoritative ledger, coupon uses,
reconciliation items and merge audits; campaigns and the coupons they issued;
owner-defined attributes and tags; the owner's audit trail."""

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    CompositeKey,
    DateTimeField,
    TextField,
)

from hub.ingest.models import BaseModel


class HubMember(BaseModel):
    """A member as registered by a terminal (or the hub). Personal fields stay encrypted.

    ``phone_index`` is not unique: two stores offline can register the same
    phone; the hub merges the later one into the earlier (``merged_into``).
    """

    id = CharField(primary_key=True)
    phone_index = CharField(index=True)
    phone_enc = TextField()
    name_enc = TextField(default="")
    birthday_enc = TextField(default="")
    gender = CharField(default="")
    tier_code = CharField(default="")
    tier_grace_until = CharField(null=True)
    home_store = CharField(default="")
    source = CharField(default="")
    consent_version = CharField(default="")
    consent_at = CharField(default="")
    consent_where = CharField(default="")
    created_at = CharField()
    merged_into = CharField(null=True, index=True)
    pin_hash = CharField(default="")
    erased_at = CharField(null=True)  # personal data removed; the anonymised ledger stays
    key_id = CharField(default="")  # the business key the personal data is under ("": before key ids)


class HubCard(BaseModel):
    """A member card and who holds it."""

    uid = CharField(primary_key=True)
    member_id = CharField(index=True)
    kind = CharField(default="nfc")
    linked_at = CharField()


class HubLedgerEntry(BaseModel):
    """One ledger entry, from a terminal or made by the hub (device ``hub``)."""

    id = CharField(primary_key=True)
    member_id = CharField(index=True)
    account = CharField()
    kind = CharField()
    amount = BigIntegerField()
    at = CharField(index=True)  # the reports read a range of days by it
    device = CharField(index=True)
    sale_id = CharField(default="", index=True)
    action = CharField(default="")
    rule = CharField(default="")
    reverses = CharField(default="")
    earned_on = CharField(default="")
    seq = BigIntegerField()
    prev = CharField()
    hash = CharField()
    event_id = CharField(index=True)


class HubLedgerHead(BaseModel):
    """The last ledger entry seen from each device (and the hub's own chain)."""

    device = CharField(primary_key=True)
    seq = BigIntegerField()
    hash = CharField()


class MemberSale(BaseModel):
    """A member's sale as tiers count it: what was paid and the points it earned."""

    sale_id = CharField(primary_key=True)
    member_id = CharField(index=True)
    day = CharField(index=True)  # YYYY-MM-DD in the shop's time zone
    paid_fen = BigIntegerField()
    points = BigIntegerField()


class CouponUse(BaseModel):
    """A coupon used in a sale; two uses of a single-use coupon are a reconciliation item."""

    id = AutoField()
    coupon_id = CharField(index=True)
    sale_id = CharField()
    device = CharField()
    member_id = CharField(default="")
    used_at = CharField()


class IssuedCoupon(BaseModel):
    """A coupon a terminal gave a member (today: the welcome coupon on joining); ``body`` is JSON."""

    id = CharField(primary_key=True)
    member_id = CharField(index=True)
    body = TextField()
    device = CharField()
    issued_at = CharField()


class Reconciliation(BaseModel):
    """A disagreement the hub found and recorded instead of rewriting history.

    ``kind``: earn_mismatch, redeem_mismatch, coupon_double_use, coupon_terms,
    coupon_stacking, coupon_amount, ledger_chain, ledger_replay, negative_balance,
    card_conflict, tier_mismatch, rules_unknown, reward_mismatch, price_mismatch, flash_window.
    ``expected``/``got`` are what the hub expected and what the terminal applied (points or fen, by kind).
    """

    id = AutoField()
    kind = CharField(index=True)
    member_id = CharField(default="", index=True)
    sale_id = CharField(default="")
    device = CharField(default="")
    expected = BigIntegerField(null=True)
    got = BigIntegerField(null=True)
    detail = TextField(default="")
    found_at = DateTimeField()
    resolved_at = DateTimeField(null=True)


class MergeAudit(BaseModel):
    """Who merged which duplicate into which member, when, and what moved."""

    id = AutoField()
    survivor_id = CharField(index=True)
    duplicate_id = CharField(index=True)
    by = CharField()
    at = CharField()
    entries = BigIntegerField()
    cards = BigIntegerField()


class ReconciliationNote(BaseModel):
    """How the owner resolved a reconciliation item: who, when, and why."""

    item_id = BigIntegerField(primary_key=True)
    note = TextField()
    by = CharField()
    at = DateTimeField()


class Campaign(BaseModel):
    """A campaign the owner defined: ``spec`` is its :class:`CampaignSpec` as JSON."""

    id = CharField(primary_key=True)
    name_zh = CharField()
    name_en = CharField(default="")
    target_kind = CharField(index=True)
    spec = TextField()
    active = BooleanField(default=True)
    created_at = DateTimeField()
    created_by = CharField()
    # the stores whose members it may reach, comma-separated ("S01,S02"); "" is every store (the owner's)
    stores = CharField(default="")


class CampaignRun(BaseModel):
    """One run of a campaign: how many members it targeted and how many new coupons it issued."""

    id = AutoField()
    campaign_id = CharField(index=True)
    at = DateTimeField()
    by = CharField()
    targeted = BigIntegerField()
    issued = BigIntegerField()


class HubCoupon(BaseModel):
    """A coupon the hub issued to a member; ``body`` is the coupon's terms as JSON.

    ``used_sale_id`` is the first sale that used it; later uses are
    ``coupon_double_use`` items.
    """

    id = CharField(primary_key=True)
    campaign_id = CharField(index=True)
    member_id = CharField(index=True)
    body = TextField()
    issued_at = DateTimeField()
    used_sale_id = CharField(null=True)


class CampaignMember(BaseModel):
    """A member a campaign concerned on one occasion, and their group.

    ``group`` is ``target`` (got the coupon) or ``holdout`` (got nothing, on purpose: the
    control group the results page compares with). ``occasion`` is ``""`` for a campaign run by
    hand or at registration, else the automatic trigger's key (``2026``, ``after:2026-10-02``).
    """

    campaign_id = CharField()
    member_id = CharField(index=True)
    occasion = CharField(default="")
    group = CharField()
    at = DateTimeField()

    class Meta:
        primary_key = CompositeKey("campaign_id", "member_id", "occasion")


class AttributeDef(BaseModel):
    """An attribute the owner defined for members; ``spec`` is its :class:`AttributeSpec` as JSON."""

    code = CharField(primary_key=True)
    spec = TextField()
    created_at = DateTimeField()


class MemberAttribute(BaseModel):
    """One member's value of one attribute, validated and normalised on write."""

    member_id = CharField(index=True)
    code = CharField()
    value = TextField()

    class Meta:
        primary_key = CompositeKey("member_id", "code")


class MemberTag(BaseModel):
    """A tag on a member (e.g. VIP, 宝妈, 团购)."""

    member_id = CharField(index=True)
    tag = CharField(index=True)

    class Meta:
        primary_key = CompositeKey("member_id", "tag")


class OwnerAudit(BaseModel):
    """Something the owner (or a script) did on the hub: who, when, what, on what."""

    id = AutoField()
    at = DateTimeField()
    by = CharField()
    action = CharField(index=True)
    subject = CharField(index=True)
    detail = TextField(default="")
    # the hash chain (hub.accounts.audit): SHA-256 of the previous row's hash and this row
    prev = CharField(default="")
    hash = CharField(default="")


LOYALTY_MODELS = [
    HubMember,
    HubCard,
    HubLedgerEntry,
    HubLedgerHead,
    MemberSale,
    CouponUse,
    IssuedCoupon,
    Reconciliation,
    MergeAudit,
    ReconciliationNote,
    Campaign,
    CampaignRun,
    HubCoupon,
    CampaignMember,
    AttributeDef,
    MemberAttribute,
    MemberTag,
    OwnerAudit,
]
