"""The hub's tables: received events, sales and refunds, device chain heads, gaps, quarantine."""

from peewee import (
    AutoField,
    BigIntegerField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from hub.db import database


class BaseModel(Model):
    """Binds hub models to the hub database proxy."""

    class Meta:
        database = database
        legacy_table_names = False


class Event(BaseModel):
    """Every event the hub has committed; the primary key is the dedupe key."""

    id = CharField(primary_key=True)
    device = CharField(index=True)
    seq = BigIntegerField()
    type = CharField()
    ts = CharField()
    hash = CharField()
    received_at = DateTimeField()
    body = TextField()

    class Meta:
        indexes = ((("device", "seq"), False),)  # chain checks look events up by device and sequence


class DeviceHead(BaseModel):
    """The last event seen from a device: its chain head, for link and gap checks."""

    device = CharField(primary_key=True)
    seq = BigIntegerField()
    hash = CharField()
    last_seen = DateTimeField()


class Sale(BaseModel):
    """A sale as the hub books it (from ``sale.completed``)."""

    id = CharField(primary_key=True)
    event = ForeignKeyField(Event, unique=True)
    device = CharField(index=True)
    store = CharField()
    receipt_no = CharField(unique=True)
    sold_at = CharField()  # the terminal's ISO timestamp, with offset
    day = CharField(index=True)  # YYYY-MM-DD in the shop's time zone
    total_fen = BigIntegerField()
    currency = CharField()
    item_count = IntegerField()


class SaleLine(BaseModel):
    """One line of a booked sale."""

    id = AutoField()
    sale = ForeignKeyField(Sale, backref="lines", on_delete="CASCADE")
    position = IntegerField()
    sku = CharField()
    name_zh = CharField()
    name_en = CharField()
    unit_price_fen = BigIntegerField()
    quantity = IntegerField()
    total_fen = BigIntegerField()


class Refund(BaseModel):
    """A refund as the hub books it (from ``sale.refunded``): money back for (part of) a sale."""

    id = CharField(primary_key=True)  # the terminal's refund id
    event = ForeignKeyField(Event, unique=True)
    sale = ForeignKeyField(Sale, backref="refunds")
    device = CharField(index=True)
    store = CharField()
    refunded_at = CharField()  # the terminal's ISO timestamp, with offset
    day = CharField(index=True)  # YYYY-MM-DD in the shop's time zone
    amount_fen = BigIntegerField()
    attendant = CharField()
    reason = TextField(default="")


class RefundLine(BaseModel):
    """Units of one sale line a booked refund took back."""

    id = AutoField()
    refund = ForeignKeyField(Refund, backref="lines", on_delete="CASCADE")
    position = IntegerField()
    quantity = IntegerField()
    total_fen = BigIntegerField()


class RefundPayment(BaseModel):
    """Where a booked refund's money went."""

    id = AutoField()
    refund = ForeignKeyField(Refund, backref="payments", on_delete="CASCADE")
    method = CharField()
    amount_fen = BigIntegerField()
    reference = CharField(default="")


class Gap(BaseModel):
    """A hole in a device's sequence: events ``expected``..``got - 1`` never arrived (yet)."""

    id = AutoField()
    device = CharField(index=True)
    expected = BigIntegerField()
    got = BigIntegerField()
    found_at = DateTimeField()


class Quarantine(BaseModel):
    """A message or event the hub could not apply, kept whole for inspection and replay."""

    id = AutoField()
    topic = CharField()
    device = CharField(null=True)
    event_id = CharField(null=True, index=True)
    reason = TextField()
    payload = TextField()
    received_at = DateTimeField()
    resolved_at = DateTimeField(null=True)  # set when a replay after a fix applied it
    resolution = TextField(default="")


ALL_MODELS = [Event, DeviceHead, Sale, SaleLine, Refund, RefundLine, RefundPayment, Gap, Quarantine]
