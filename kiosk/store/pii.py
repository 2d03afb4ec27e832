"""Personal data at rest: AES-GCM encryption and the phone number's blind index.

The key comes from the device's provisioning file (``kiosk.toml``) and is the
business's key: every terminal and the hub of one business share it, so the
same phone gives the same blind index everywhere and the hub can read what a
terminal encrypted. Sub-keys are derived from it (encryption, blind index, signed
links), so no one key does two jobs.
"""

import base64
import hashlib
import hmac
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class PiiError(ValueError):
    """Encrypted data could not be read: wrong key, or the value was tampered with."""


class PiiKey:
    """Encrypts and indexes one business's personal data with a 32-byte key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise PiiError(f"the personal-data key must be 32 bytes, got {len(key)}")
        self._aead_key = hmac.digest(key, b"member-kiosk pii encryption", "sha256")
        self._aead_cipher: AESGCM | None = None
        self._index_key = hmac.digest(key, b"member-kiosk phone blind index", "sha256")
        self._link_key = hmac.digest(key, b"member-kiosk signed member links", "sha256")

    @property
    def _aead(self) -> "AESGCM":
        # The crypto backend (cryptography's Rust module and OpenSSL, about 6 MB resident) loads
        # when a member's personal data is first read or written, not when the kiosk starts: a
        # terminal nobody taps a member card on never needs it (docs/perf.md, kiosk memory).
        if self._aead_cipher is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self._aead_cipher = AESGCM(self._aead_key)
        return self._aead_cipher

    def link_key(self) -> bytes:
        """The key that signs links a member opens on the hub (the "export my data" QR)."""
        return self._link_key

    def blind_index(self, e164: str) -> str:
        """HMAC-SHA256 of the normalised phone: equal phones give equal indexes, nothing more."""
        return hmac.new(self._index_key, e164.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, text: str, context: str) -> str:
        """``text`` sealed with a random nonce; ``context`` (e.g. ``member-id:name``) binds it to
        its row and field, so a ciphertext moved elsewhere fails to decrypt."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, text.encode(), context.encode())
        return base64.b64encode(nonce + sealed).decode()

    def decrypt(self, token: str, context: str) -> str:
        """The text :meth:`encrypt` sealed; raises PiiError on a wrong key, context or edit."""
        raw = base64.b64decode(token)
        try:
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        except Exception as exc:  # cryptography raises InvalidTag; keep the cause
            raise PiiError(f"cannot decrypt {context}: wrong key or altered data") from exc
        return plain.decode()


SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # about 50 ms on a Pi 4: slow for guessing, fine for a tap


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """A salted scrypt hash of a member's PIN, as ``scrypt$<salt b64>$<hash b64>``."""
    if not (pin.isdigit() and 4 <= len(pin) <= 8):
        raise PiiError("a PIN is 4 to 8 digits / 密码须为4至8位数字")
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` matches the stored hash (constant-time compare)."""
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt" or not pin.isdigit():
        return False
    digest = hashlib.scrypt(pin.encode(), salt=base64.b64decode(salt_b64), dklen=32, **SCRYPT)
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))
