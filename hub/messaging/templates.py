"""The texts of the messages members receive: one template per campaign kind and channel, in
Chinese and English, that the owner edits on the dashboard (``/messages/templates``).

A template is text with placeholders from a fixed list (:data:`PLACEHOLDERS`): ``{name}`` the
member's masked name, ``{offer}`` the coupon, ``{points}``, ``{expiry}`` a date, ``{shop}`` the
shop's name and ``{stop}`` how to unsubscribe from SMS (回T退订). :func:`problems` refuses an
unknown placeholder, a lone brace, an SMS without ``{stop}`` and an SMS longer than
:data:`SMS_SEGMENTS` segments with the longest values a placeholder may take. Every save is a new
version (``message_template``), audited; sends render the newest version when they are queued,
the built-in default (the hub catalog's ``tpl_*`` texts) while the owner has saved none.
"""

import datetime as dt
import re
from dataclasses import dataclass

from peewee import AutoField, CharField, DateTimeField, IntegerField, TextField, fn

from hub.accounts import audit as owner_audit
from hub.ingest.models import BaseModel
from hub.web import i18n
from hub.web.i18n import N_

#: The campaign kinds that send messages: an automatic campaign's trigger, the welcome coupon
#: (at registration) and the points-expiry reminder.
KINDS = (
    "birthday",
    "anniversary",
    "welcome",
    "winback",
    "holiday",
    "thank_you",
    "near_tier",
    "expiry_reminder",
)
CHANNELS = ("email", "sms")
LANGS = ("zh", "en")
PLACEHOLDERS = ("name", "offer", "points", "expiry", "shop", "stop")
#: The longest value each placeholder takes when an SMS is measured (``shop`` and ``stop`` are
#: measured as they are): a longer coupon name still sends, as one more segment.
WIDEST = {"name": 8, "offer": 20, "points": 7, "expiry": 10}
SMS_SEGMENTS = 2  # the longest SMS a template may make, in segments (the gateway bills each)
SUBJECT_MAX = 100
BODY_MAX = 2000

KIND_NAMES = {
    "birthday": N_("trigger_birthday"),
    "anniversary": N_("trigger_anniversary"),
    "welcome": N_("tpl_kind_welcome"),
    "winback": N_("trigger_winback"),
    "holiday": N_("trigger_holiday"),
    "thank_you": N_("trigger_thank_you"),
    "near_tier": N_("trigger_near_tier"),
    "expiry_reminder": N_("tpl_kind_expiry_reminder"),
}
CHANNEL_NAMES = {"email": N_("channel_email"), "sms": N_("channel_sms")}
# the built-in texts, one sentence per kind in the hub catalog; the channel adds the greeting
# line, the shop's name (e-mail) or the way to stop (SMS) around it
_SENTENCES = {
    "birthday": N_("tpl_birthday"),
    "anniversary": N_("tpl_anniversary"),
    "welcome": N_("tpl_welcome"),
    "winback": N_("tpl_winback"),
    "holiday": N_("tpl_holiday"),
    "thank_you": N_("tpl_thank_you"),
    "near_tier": N_("tpl_near_tier"),
    "expiry_reminder": N_("tpl_expiry_reminder"),
}
_SUBJECTS = {
    "birthday": N_("tpl_subject_birthday"),
    "anniversary": N_("tpl_subject_anniversary"),
    "welcome": N_("tpl_subject_welcome"),
    "winback": N_("tpl_subject_winback"),
    "holiday": N_("tpl_subject_holiday"),
    "thank_you": N_("tpl_subject_thank_you"),
    "near_tier": N_("tpl_subject_near_tier"),
    "expiry_reminder": N_("tpl_subject_expiry_reminder"),
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")

GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)


class MessageTemplate(BaseModel):
    """One saved version of the texts of ``kind`` on ``channel`` (both languages; e-mail subjects)."""

    id = AutoField()
    kind = CharField()
    channel = CharField()
    version = IntegerField()
    subject_zh = CharField(default="")
    subject_en = CharField(default="")
    body_zh = TextField()
    body_en = TextField()
    saved_at = DateTimeField()
    saved_by = CharField()
    store = CharField(default="")  # "" every store; else a store's own text (a manager's), used first

    class Meta:
        indexes = ((("kind", "channel", "version"), True),)


MODELS = [MessageTemplate]


@dataclass(frozen=True)
class Texts:
    """A template's texts: subject and body per language (``version`` 0: the built-in default)."""

    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str
    version: int = 0
    saved_at: dt.datetime | None = None
    saved_by: str = ""
    store: str = ""

    def subject(self, lang: str) -> str:
        """The subject in ``lang`` (Chinese unless ``en``)."""
        return self.subject_en if lang == "en" else self.subject_zh

    def body(self, lang: str) -> str:
        """The body in ``lang`` (Chinese unless ``en``)."""
        return self.body_en if lang == "en" else self.body_zh


@dataclass(frozen=True)
class Problem:
    """What is wrong with one text of a template: a hub catalog key, its values, and the field."""

    field: str
    key: str
    values: tuple[tuple[str, str], ...] = ()

    def text(self, lang: str) -> str:
        """The problem in words, in ``lang``."""
        return i18n.t(self.key, lang, **dict(self.values))


def stop_text(lang: str) -> str:
    """How to unsubscribe from SMS, the ``{stop}`` placeholder: 回T退订 / Reply T to stop."""
    return i18n.t("tpl_stop", lang)


def default_texts(kind: str, channel: str) -> Texts:
    """The built-in texts of ``kind`` on ``channel``, while the owner has saved none."""
    bodies = []
    for lang in LANGS:
        sentence = i18n.t(_SENTENCES[kind], lang)
        if channel == "sms":
            bodies.append(i18n.t("tpl_sms_frame", lang, text=sentence))
        else:
            bodies.append(i18n.t("tpl_email_frame", lang, text=sentence))
    subject = [i18n.t(_SUBJECTS[kind], lang) for lang in LANGS] if channel == "email" else ["", ""]
    return Texts(subject[0], subject[1], bodies[0], bodies[1])


def current(kind: str, channel: str, store: str = "") -> Texts:
    """The texts sends use now for a member of ``store``: the newest version saved for that store,
    else the newest for every store, else the built-in default."""
    for where in dict.fromkeys((store, "")):
        row = (
            MessageTemplate.select()
            .where(
                MessageTemplate.kind == kind,
                MessageTemplate.channel == channel,
                MessageTemplate.store == where,
            )
            .order_by(MessageTemplate.version.desc())
            .first()
        )
        if row is not None:
            return _texts(row)
    return default_texts(kind, channel)


def _texts(row: MessageTemplate) -> Texts:
    return Texts(
        row.subject_zh, row.subject_en, row.body_zh, row.body_en, row.version, row.saved_at, row.saved_by,
        row.store,
    )  # fmt: skip


def versions(kind: str, channel: str, store: str = "") -> list[Texts]:
    """Every version saved for ``store`` ("" every store) of ``kind`` on ``channel``, newest first."""
    rows = (
        MessageTemplate.select()
        .where(
            MessageTemplate.kind == kind, MessageTemplate.channel == channel, MessageTemplate.store == store
        )
        .order_by(MessageTemplate.version.desc())
    )
    return [_texts(row) for row in rows]


def sms_segments(text: str) -> int:
    """How many segments an SMS of ``text`` takes: 160/153 characters in the GSM alphabet,
    70/67 as soon as one character (a Chinese one) is outside it."""
    single, part = (160, 153) if set(text) <= GSM7 else (70, 67)
    return 1 if len(text) <= single else -(-len(text) // part)


def sms_as_sent(body: str, shop: str) -> str:
    """The SMS as the gateway sends it: the shop's signature 【shop】 in front (see ``SmsGateway``)."""
    return f"【{shop}】{body}"


def render(text: str, values: dict[str, str]) -> str:
    """``text`` with each ``{placeholder}`` replaced by its value (the text checked first)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _text_problems(field: str, text: str, channel: str, shop: str) -> list[Problem]:
    found: list[Problem] = []
    names = _PLACEHOLDER.findall(text)
    for name in dict.fromkeys(names):
        if name not in PLACEHOLDERS:
            known = " ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            found.append(
                Problem(field, N_("tpl_unknown_placeholder"), (("placeholder", name), ("known", known)))
            )
    if "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text):
        found.append(
            Problem(field, N_("tpl_lone_brace"), (("open", "{"), ("close", "}"), ("example", "{name}")))
        )
    if field.startswith("body") and channel == "sms":
        if "stop" not in names:
            found.append(Problem(field, N_("tpl_sms_needs_stop")))
        lang = "en" if field.endswith("_en") else "zh"
        widest = {**{k: "W" * n if lang == "en" else "字" * n for k, n in WIDEST.items()},
                  "shop": shop, "stop": stop_text(lang)}  # fmt: skip
        longest = sms_as_sent(render(text, widest), shop)
        if sms_segments(longest) > SMS_SEGMENTS:
            found.append(
                Problem(field, N_("tpl_sms_too_long"),
                        (("length", str(len(longest))), ("segments", str(sms_segments(longest))),
                         ("budget", str(SMS_SEGMENTS))))
            )  # fmt: skip
    return found


def problems(channel: str, texts: Texts, shop: str) -> list[Problem]:
    """Everything wrong with ``texts`` for ``channel``; empty when they may be saved."""
    found: list[Problem] = []
    fields = {"body_zh": texts.body_zh, "body_en": texts.body_en}
    if channel == "email":
        fields = {"subject_zh": texts.subject_zh, "subject_en": texts.subject_en, **fields}
    for field, text in fields.items():
        limit = SUBJECT_MAX if field.startswith("subject") else BODY_MAX
        if not text.strip():
            found.append(Problem(field, N_("tpl_empty")))
        elif len(text) > limit:
            found.append(Problem(field, N_("tpl_too_long"), (("limit", str(limit)),)))
        else:
            found.extend(_text_problems(field, text, channel, shop))
    return found


class TemplateRefused(ValueError):
    """Texts that may not be saved; ``problems`` says why."""

    def __init__(self, found: list[Problem]) -> None:
        super().__init__("; ".join(p.text("en") for p in found))
        self.problems = found


def save(kind: str, channel: str, texts: Texts, shop: str, by: str, now: dt.datetime, store: str = "") -> int:
    """Save ``texts`` as the next version of ``kind`` on ``channel`` for ``store`` ("" every store);
    audited; return the version (numbered across stores, so each number is one saved text).

    Call it inside a transaction; :class:`TemplateRefused` when :func:`problems` finds any.
    """
    if kind not in KINDS or channel not in CHANNELS:
        raise ValueError(f"no message template {kind}/{channel} / 没有该消息模板")
    found = problems(channel, texts, shop)
    if found:
        raise TemplateRefused(found)
    last = (
        MessageTemplate.select(fn.MAX(MessageTemplate.version))
        .where(MessageTemplate.kind == kind, MessageTemplate.channel == channel)
        .scalar()
    )
    version = (last or 0) + 1
    subjects = (texts.subject_zh, texts.subject_en) if channel == "email" else ("", "")
    MessageTemplate.create(
        kind=kind, channel=channel, version=version, subject_zh=subjects[0], subject_en=subjects[1],
        body_zh=texts.body_zh, body_en=texts.body_en, saved_at=now, saved_by=by, store=store,
    )  # fmt: skip
    subject = f"{kind}/{channel}" + (f"@{store}" if store else "")
    owner_audit.record(
        by, "message_template.save", subject, now, version=version,
        body_zh=texts.body_zh, body_en=texts.body_en, subject_zh=subjects[0], subject_en=subjects[1],
    )  # fmt: skip
    return version


@dataclass(frozen=True)
class Facts:
    """What a message says about its member and occasion: masked name per language ("" unknown),
    the offer per language, points, a date."""

    name: str = ""
    offer_zh: str = ""
    offer_en: str = ""
    points: int | None = None
    expiry: dt.date | None = None


def values(facts: Facts, lang: str, shop: str) -> dict[str, str]:
    """Each placeholder's value for ``facts`` in ``lang``."""
    date = facts.expiry
    expiry = ""
    if date is not None:
        expiry = (
            date.isoformat() if lang == "en" else i18n.t("tpl_date", "zh", month=date.month, day=date.day)
        )
    offer = (facts.offer_en or facts.offer_zh) if lang == "en" else facts.offer_zh
    return {
        "name": facts.name or i18n.t("tpl_member", lang),
        "offer": offer,
        "points": "" if facts.points is None else str(facts.points),
        "expiry": expiry,
        "shop": shop,
        "stop": stop_text(lang),
    }


@dataclass(frozen=True)
class Rendered:
    """One message ready to queue: subjects and bodies per language, and the template version."""

    subject_zh: str
    subject_en: str
    body_zh: str
    body_en: str
    version: int


def compose(
    kind: str, channel: str, facts: Facts, shop: str, texts: Texts | None = None, store: str = ""
) -> Rendered:
    """The message of ``kind`` on ``channel`` for ``facts`` (a member of ``store``): the current
    template (or ``texts``) filled in."""
    use = texts or current(kind, channel, store)
    zh, en = values(facts, "zh", shop), values(facts, "en", shop)
    return Rendered(
        render(use.subject_zh, zh), render(use.subject_en, en),
        render(use.body_zh, zh), render(use.body_en, en), use.version,
    )  # fmt: skip


def sample_facts() -> Facts:
    """The sample member a preview shows: 王** with a ¥10 coupon, 500 points, a date next month."""
    return Facts(
        name="王**",
        offer_zh=i18n.t("tpl_sample_offer", "zh"),
        offer_en=i18n.t("tpl_sample_offer", "en"),
        points=500,
        expiry=dt.date(2027, 1, 1),
    )
