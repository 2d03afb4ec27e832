"""peewee models for members on the terminal: members, cards, ledger, coupons, count cards.

Personal fields hold AES-GCM tokens (see :mod:`kiosk.store.pii`); the phone is
found through its blind index. Ledger rows are only ever inserted.
"""

from peewee import BooleanField, CharField, CompositeKey, IntegerField, TextField

from kiosk.store.models import BaseModel


class Member(BaseModel):
    """A member known to this terminal (registered here or sent by the hub)."""

    id = CharField(primary_key=True)  # UUID
    phone_index = CharField(unique=True)  # HMAC-SHA256 of the E.164 phone
    phone_enc = TextField()
    name_enc = TextField(default="")
    birthday_enc = TextField(default="")
    gender = CharField(default="")
    tier_code = CharField(default="")
    tier_grace_until = CharField(null=True)
    home_store = CharField(default="")
    source = CharField(default="kiosk")
    consent_version = CharField(default="")
    consent_at = CharField(default="")
    consent_where = CharField(default="")
    created_at = CharField()
    merged_into = CharField(null=True)  # set when the hub merged this member into another
    pin_hash = CharField(default="")  # scrypt, see kiosk.store.pii.hash_pin
    # the member's own data key (their fields are under it), wrapped under the business key;
    # "" for a member registered before data keys (fields under the business key)
    data_key = TextField(default="")


class MemberCard(BaseModel):
    """A card (NFC UID or printed number) that identifies a member."""

    uid = CharField(primary_key=True)
    member_id = CharField(index=True)
    kind = CharField(default="nfc")
    linked_at = CharField()


class LedgerHead(BaseModel):
    """This device's last ledger sequence number and hash (one row)."""

    id = IntegerField(primary_key=True, default=1)
    seq = IntegerField(default=0)
    hash = CharField()


class LedgerRow(BaseModel):
    """One ledger entry, as :class:`kiosk.domain.loyalty.LedgerEntry`, plus its event."""

    id = CharField(primary_key=True)
    member_id = CharField(index=True)
    account = CharField()
    kind = CharField()
    amount = IntegerField()
    at = CharField()
    device = CharField()
    sale_id = CharField(default="", index=True)
    action = CharField(default="")
    rule = CharField(default="")
    reverses = CharField(default="")
    earned_on = CharField(default="")
    seq = IntegerField()
    prev = CharField()
    hash = CharField()
    event_id = CharField(index=True)  # the outbox event that carried it to the hub


class CouponRow(BaseModel):
    """A coupon a member holds; ``body`` is the coupon's terms as JSON."""

    id = CharField(primary_key=True)
    member_id = CharField(index=True, default="")
    body = TextField()
    used_sale_id = CharField(null=True)
    used_at = CharField(null=True)
    single_use = BooleanField(default=True)


class CountCardRow(BaseModel):
    """A count card (次卡); the visits left are its ledger account's balance."""

    id = CharField(primary_key=True)
    member_id = CharField(index=True)
    product_sku = CharField()
    visits = IntegerField()
    service_skus = TextField()  # JSON list
    expires_on = CharField()


class MemberSnapshot(BaseModel):
    """The hub's balance of one member account, sent down for members of other stores.

    It already counts this device's entries up to ``through_seq``; the local
    balance adds only this device's later entries.
    """

    member_id = CharField()
    account = CharField()
    amount = IntegerField()
    through_seq = IntegerField()

    class Meta:
        primary_key = CompositeKey("member_id", "account")


MEMBER_MODELS = [Member, MemberCard, LedgerHead, LedgerRow, CouponRow, CountCardRow, MemberSnapshot]
