"""peewee models of what a terminal stores: catalog, sales, and the outbox."""

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from kiosk.store.connection import database


class BaseModel(Model):
    """Binds every model to the terminal's database handle."""

    class Meta:
        database = database
        legacy_table_names = False


class Product(BaseModel):
    """A catalog item; price in fen. Names in Chinese and English."""

    sku = CharField(primary_key=True)
    barcode = CharField(unique=True, null=True)
    name_zh = CharField()
    name_en = CharField(default="")
    price_fen = IntegerField()
    category = CharField(default="")
    active = BooleanField(default=True)


class Sale(BaseModel):
    """A completed sale. ``id`` is a UUID made on the terminal."""

    id = CharField(primary_key=True)
    receipt_no = CharField(unique=True)
    device_id = CharField()
    created_at = CharField()  # ISO 8601 with offset, from the terminal's clock
    total_fen = IntegerField()
    currency = CharField(default="CNY")


class SaleLine(BaseModel):
    """One product line of a sale, priced as it was sold."""

    id = AutoField()
    sale = ForeignKeyField(Sale, backref="lines", on_delete="CASCADE")
    position = IntegerField()
    sku = CharField()
    name_zh = CharField()
    name_en = CharField(default="")
    unit_price_fen = IntegerField()
    quantity = IntegerField()
    total_fen = IntegerField()
    source = CharField(default="")  # "together": the shopper took the cart's suggestion


class Payment(BaseModel):
    """How (part of) a sale was paid."""

    id = AutoField()
    sale = ForeignKeyField(Sale, backref="payments", on_delete="CASCADE")
    method = CharField()  # cash, stored_value, points, mobile, ...
    amount_fen = IntegerField()
    reference = CharField(default="")  # e.g. attendant id for cash, gateway id for mobile


class DailyCounter(BaseModel):
    """The per-day receipt sequence: receipt numbers are ``{store}-{device}-{day}{seq}``."""

    day = CharField(primary_key=True)  # YYYYMMDD in the shop's time zone
    last = IntegerField(default=0)


class ChainHead(BaseModel):
    """The device's last event sequence number and hash (one row)."""

    id = IntegerField(primary_key=True, default=1)
    seq = IntegerField(default=0)
    hash = CharField(default="")


class Outbox(BaseModel):
    """An event waiting for (or acknowledged by) the hub.

    Written in the same transaction as the change it describes. ``sent_at`` is set
    only when the hub's ack arrives; ``rejected`` holds the hub's reason if it
    quarantined the event.
    """

    id = CharField(primary_key=True)  # event UUID
    seq = IntegerField(unique=True)
    type = CharField()
    ts = CharField()
    prev = CharField()
    hash = CharField()
    body = TextField()  # the full event JSON as published
    created_at = DateTimeField()
    sent_at = DateTimeField(null=True, index=True)
    rejected = TextField(null=True)


class AppliedConfig(BaseModel):
    """The downlink config release the terminal runs (one row); the UI polls ``version``.

    Written by the sync agent (:mod:`kiosk.sync.config`); created by migration 4.
    """

    id = IntegerField(primary_key=True, default=1)
    version = IntegerField()
    applied_at = CharField()
    body = TextField()

    class Meta:
        table_name = "sync_config"


class DeviceStatus(BaseModel):
    """The last reported condition of a device the app owns (``printer``), for the heartbeat.

    The app process owns the hardware and writes here when a condition changes; the
    sync agent, a separate process, reads it for ``pos/{d}/status``. Created by migration 4.
    """

    component = CharField(primary_key=True)  # "printer"
    state = CharField()  # a kiosk.hw.status.DeviceState value
    updated_at = CharField()  # ISO 8601 with offset, the terminal's clock


class Refund(BaseModel):
    """Money given back for (part of) a sale by an attendant. ``id`` is the refund's UUID,
    the idempotency key: the same refund submitted twice is stored once. Created by migration 5."""

    id = CharField(primary_key=True)
    sale = ForeignKeyField(Sale, backref="refunds", on_delete="CASCADE")
    event_id = CharField(unique=True)  # its sale.refunded event
    created_at = CharField()  # ISO 8601 with offset, the terminal's clock
    amount_fen = IntegerField()
    attendant = CharField()
    reason = CharField(default="")


class RefundLine(BaseModel):
    """Units of one sale line a refund took back, and the fen they returned."""

    id = AutoField()
    refund = ForeignKeyField(Refund, backref="lines", on_delete="CASCADE")
    position = IntegerField()  # the sale line's position
    quantity = IntegerField()
    total_fen = IntegerField()


class RefundPayment(BaseModel):
    """Where a refund's money went: back by one of the sale's payment methods."""

    id = AutoField()
    refund = ForeignKeyField(Refund, backref="payments", on_delete="CASCADE")
    method = CharField()
    amount_fen = IntegerField()
    reference = CharField(default="")  # the gateway's refund id for mobile payments


class SchemaVersion(BaseModel):
    """Which numbered migrations have run."""

    number = IntegerField(primary_key=True)
    name = CharField()
    applied_at = CharField()


ALL_MODELS = [Product, Sale, SaleLine, Payment, DailyCounter, ChainHead, Outbox]
REFUND_MODELS = [Refund, RefundLine, RefundPayment]
