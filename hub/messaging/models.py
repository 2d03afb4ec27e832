"""The messaging tables: each member's marketing consent, and every message queued for a member."""

from peewee import AutoField, BooleanField, CharField, DateTimeField, IntegerField, TextField

from hub.ingest.models import BaseModel


class MarketingConsent(BaseModel):
    """A member's marketing consent (营销信息同意), separate from the membership consent (PIPL).

    No row means no consent: nothing promotional is sent. ``version``/``where`` say which text
    the member agreed to (or withdrew from) and where; every change is audited.
    """

    member_id = CharField(primary_key=True)
    granted = BooleanField()
    version = CharField(default="")
    where = CharField(default="")
    at = DateTimeField()
    email_enc = TextField(default="")  # the address the member gave for messages, AES-GCM like the phone
    lang = CharField(default="zh")  # the language messages go out in: zh, or en when the member chose it


class MemberMessage(BaseModel):
    """One message to one member on one channel.

    ``id`` is derived from what the message is about (kind, occasion, member, channel), so a job
    that runs again queues nothing new. ``status``: ``queued`` → ``sent`` (``failed`` after the
    last attempt; ``skipped`` when consent or a contact was missing at send time).
    """

    id = CharField(primary_key=True)
    member_id = CharField(index=True)
    channel = CharField()  # email, sms, kiosk
    kind = CharField(index=True)  # expiry_reminder, campaign:<id>, ...
    subject = CharField(default="")
    subject_en = CharField(default="")
    body_zh = TextField()
    body_en = TextField(default="")
    status = CharField(index=True, default="queued")
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    queued_at = DateTimeField()
    sent_at = DateTimeField(null=True)
    next_try_at = DateTimeField(null=True)
    provider_id = CharField(default="")  # the gateway's message id, for delivery receipts
    delivery = CharField(default="")  # the gateway's receipt: "" (none yet), delivered, undelivered
    delivered_at = DateTimeField(null=True)  # when the receipt said so (the gateway's time)
    template_version = IntegerField(
        default=0
    )  # the owner's template version it was written from (0: built in)


class SendLog(BaseModel):
    """Every attempt to send a message: when, the result, the error (each send recorded)."""

    id = AutoField()
    message_id = CharField(index=True)
    at = DateTimeField()
    ok = BooleanField()
    detail = TextField(default="")


MODELS = [MarketingConsent, MemberMessage, SendLog]
