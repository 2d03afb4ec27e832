"""Personal data at rest: AES-GCM encryption and the phone number's blind index.

The key comes from the device's provisioning file (``kiosk.toml``) and is the
business's key: every terminal and the hub of one business share it, so the
same phone gives the same blind index everywhere and the hub can read what a
terminal encrypted. Two sub-keys are derived from it, so the index key is
never the encryption key.
"""

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class PiiError(ValueError):
    """Encrypted data could not be read: wrong key, or the value was tampered with."""


class PiiKey:
    """Encrypts and indexes one business's personal data with a 32-byte key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise PiiError(f"the personal-data key must be 32 bytes, got {len(key)}")
        self._aead = AESGCM(hmac.digest(key, b"member-kiosk pii encryption", "sha256"))
        self._index_key = hmac.digest(key, b"member-kiosk phone blind index", "sha256")

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
