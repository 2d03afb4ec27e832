"""Staff roles, what each may do at the terminal, and staff PINs as salted slow hashes. Pure.

The hub keeps the accounts and the matrix (``hub.staff.accounts``); terminals get
them with the roster and decide offline. A PIN is kept only as
``scrypt$n$r$p$<salt>$<hash>`` (base64): the hub hashes, the terminal verifies.
"""

import base64
import hashlib
import hmac
from collections.abc import Mapping

from kiosk.domain.errors import DomainError

ROLES = ("attendant", "supervisor", "manager", "owner")  # least to most trusted

# every attendant action the terminal checks (their names: the catalog's ``action_<name>`` keys)
ACTIONS = (
    "clock", "age_check", "cash", "remove", "price_override", "void_sale", "reprint", "drawer", "top_up",
    "refund", "cap_override", "shift_report", "member", "count_card",
)  # fmt: skip

DEFAULT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "attendant": ("clock", "age_check", "cash", "remove", "reprint", "shift_report", "member"),
    "supervisor": ("clock", "age_check", "cash", "remove", "reprint", "shift_report", "member",
                   "price_override", "void_sale", "drawer", "top_up", "count_card"),
    "manager": ACTIONS,
    "owner": ACTIONS,
}  # fmt: skip

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**12, 8, 1  # about 10 ms here, 40 ms on a Pi 4 (one check per staff)
PIN_DIGITS = (4, 8)


class StaffError(DomainError):
    """A staff change or check the rules refuse; ``zh`` and ``en`` say why and what to do."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(f"{en} / {zh}")
        self.zh = zh
        self.en = en

    def text(self, lang: str) -> str:
        """The reason in ``lang``."""
        return self.zh if lang == "zh" else self.en


def check_pin_format(pin: str) -> None:
    """A staff PIN is 4 to 8 digits; StaffError otherwise."""
    low, high = PIN_DIGITS
    if not (pin.isascii() and pin.isdigit() and low <= len(pin) <= high):
        raise StaffError(f"密码须为 {low}–{high} 位数字。", f"A PIN is {low} to {high} digits.")


def hash_pin(pin: str, salt: bytes) -> str:
    """``pin`` as ``scrypt$n$r$p$salt$hash`` with the given random ``salt`` (16 bytes)."""
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_pin(pin: str, encoded: str) -> bool:
    """True when ``pin`` hashes to ``encoded`` (a :func:`hash_pin` string); False for anything malformed."""
    try:
        kind, n, r, p, salt, digest = encoded.split("$")
        if kind != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(pin.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(got, want)


# The roster's PIN lookup tag: without it a PIN entry tries every person's hash in turn (one slow
# scrypt each: seconds for a roster of hundreds on a Pi). The tag is one more scrypt of the PIN, as
# slow as a PIN hash, under one salt for the whole roster, cut to 16 bits; a PIN entry computes it
# once and checks only the people whose tag matches (about one) with their own salted hash.
# Guessing one person's PIN still costs a slow hash per guess, and 16 bits cannot name a PIN
# (docs/security.md, "Staff PINs").
PIN_TAG_BYTES = 2


def new_tag_key(salt: bytes) -> str:
    """A roster's tag key from 16 random bytes: ``scrypt$n$r$p$<salt>``, the cost of a PIN hash."""
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${base64.b64encode(salt).decode()}"


def pin_tag(pin: str, tag_key: str) -> str:
    """``pin``'s lookup tag under the roster's ``tag_key`` (:func:`new_tag_key`): 4 hex digits;
    ``""`` for a key that cannot be read (the PIN is then checked against everyone)."""
    try:
        kind, n, r, p, salt = tag_key.split("$")
        if kind != "scrypt":
            return ""
        digest = hashlib.scrypt(pin.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return ""
    return digest[:PIN_TAG_BYTES].hex()


def check_permissions(matrix: Mapping[str, object]) -> dict[str, list[str]]:
    """The matrix cleaned (every role, known actions in order); the owner always may do everything."""
    unknown_roles = set(matrix) - set(ROLES)
    if unknown_roles:
        raise StaffError(f"未知角色：{sorted(unknown_roles)}。", f"Unknown roles: {sorted(unknown_roles)}.")
    clean: dict[str, list[str]] = {}
    for role in ROLES:
        given = matrix.get(role, ())
        if not isinstance(given, list | tuple):
            raise StaffError(f"{role} 的权限应为列表。", f"The permissions of {role} are a list.")
        unknown = set(given) - set(ACTIONS)
        if unknown:
            raise StaffError(f"未知操作：{sorted(unknown)}。", f"Unknown actions: {sorted(unknown)}.")
        clean[role] = [a for a in ACTIONS if a in given or role == "owner"]
    return clean


def allowed(matrix: Mapping[str, object], role: str, action: str) -> bool:
    """May ``role`` do ``action``? Unknown roles may do nothing."""
    actions = matrix.get(role, ())
    return isinstance(actions, list | tuple) and action in actions


def who_may(matrix: Mapping[str, object], action: str) -> list[str]:
    """The roles that may do ``action``, least trusted first."""
    return [role for role in ROLES if allowed(matrix, role, action)]
