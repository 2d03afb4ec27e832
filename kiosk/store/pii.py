"""Personal data at rest: AES-GCM encryption and the phone number's blind index.

The key comes from the device's provisioning file (``kiosk.toml``) and is the
business's key: every terminal and the hub of one business share it, so the
same phone gives the same blind index everywhere and the hub can read what a
terminal encrypted. Sub-keys are derived from it (encryption, blind index, signed
links, wrapping the next key), so no one key does two jobs. The owner replaces it with
``hub keys rotate``: a :class:`PiiKey` then holds the new key and the older one until
every copy has moved (docs/security.md, "Key rotation").
"""

import base64
import hashlib
import hmac
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
DATA_KEY_PREFIX = "dk-"  # a ciphertext under a member's own data key is named ``dk-<its id>:``

# member id -> that member's data key wrapped under a business key (None: the member has none)
DataKeyLookup = Callable[[str], str | None]


class PiiError(ValueError):
    """Encrypted data could not be read: wrong key, or the value was tampered with."""


def key_id_of(key: bytes) -> str:
    """The public name of a business key: 12 hex digits of a keyed hash, the same everywhere.

    Derived from the key itself, so a key made before key ids existed has one too, and the
    name reveals nothing of the key.
    """
    return hmac.digest(key, b"member-kiosk key id", "sha256").hex()[:12]


class _OneKey:
    """The sub-keys of one 32-byte business key (encryption, blind index, signed links, key wrap)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise PiiError(f"the personal-data key must be 32 bytes, got {len(key)}")
        self.raw = key
        self.id = key_id_of(key)
        self.aead_key = hmac.digest(key, b"member-kiosk pii encryption", "sha256")
        self.index_key = hmac.digest(key, b"member-kiosk phone blind index", "sha256")
        self.link_key = hmac.digest(key, b"member-kiosk signed member links", "sha256")
        self.wrap_key = hmac.digest(key, b"member-kiosk next business key", "sha256")
        self.data_wrap_key = hmac.digest(key, b"member-kiosk member data key", "sha256")
        self.cipher: AESGCM | None = None

    @property
    def aead(self) -> "AESGCM":
        # The crypto backend (cryptography's Rust module and OpenSSL, about 6 MB resident) loads
        # when a member's personal data is first read or written, not when the kiosk starts: a
        # terminal nobody taps a member card on never needs it (docs/perf.md, kiosk memory).
        if self.cipher is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self.cipher = AESGCM(self.aead_key)
        return self.cipher

    def blind_index(self, e164: str) -> str:
        return hmac.new(self.index_key, e164.encode(), hashlib.sha256).hexdigest()

    def seal(self, name: str, text: str, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self.aead.encrypt(nonce, text.encode(), context.encode())
        return f"{name}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, body: str, context: str) -> str | None:
        try:
            raw = base64.b64decode(body)
            return self.aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
        except Exception:  # InvalidTag, bad base64: the caller tries another key or says so
            return None


def new_data_key() -> bytes:
    """A fresh random 32-byte data key for one member (docs/security.md, "Crypto-shredding")."""
    return os.urandom(32)


def data_key_name(data_key: bytes) -> str:
    """How ciphertexts under ``data_key`` name it: ``dk-`` and the key's id."""
    return DATA_KEY_PREFIX + key_id_of(data_key)


class PiiKey:
    """Encrypts and indexes one business's personal data: its current key, and older ones still read.

    A business key is replaced by ``hub keys rotate`` (docs/security.md, "Key rotation"). While the
    change spreads, data under the older key stays readable and findable: ciphertexts name their
    key (``<key id>:<base64>``; one without a name, from before key ids, is tried with each key),
    and a phone is looked up under every key held (:meth:`blind_indexes`). New data is always
    written under the current key.
    """

    def __init__(
        self, key: bytes, older: tuple[bytes, ...] = (), data_keys: DataKeyLookup | None = None
    ) -> None:
        self._keys = [_OneKey(key), *(_OneKey(k) for k in older)]
        self._by_id = {k.id: k for k in reversed(self._keys)}
        self._data_keys = data_keys

    def with_data_keys(self, lookup: DataKeyLookup | None) -> "PiiKey":
        """These business keys, reading members' data keys (wrapped) from ``lookup``: a ciphertext
        named ``dk-…`` is opened with the data key of the member its context names. The sub-keys
        are shared, not derived again."""
        ring = object.__new__(PiiKey)
        ring._keys, ring._by_id, ring._data_keys = self._keys, self._by_id, lookup
        return ring

    @property
    def key_id(self) -> str:
        """The current key's id (what a terminal reports, what new ciphertexts name)."""
        return self._keys[0].id

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key held, the current one first."""
        return tuple(k.id for k in self._keys)

    def link_key(self) -> bytes:
        """The key that signs links a member opens on the hub (the "export my data" QR)."""
        return self._keys[0].link_key

    def link_keys(self) -> tuple[bytes, ...]:
        """Every key a signed link may carry, the current one first (a link signed before a rotation)."""
        return tuple(k.link_key for k in self._keys)

    def blind_index(self, e164: str) -> str:
        """HMAC-SHA256 of the normalised phone under the current key: equal phones, equal indexes."""
        return self._keys[0].blind_index(e164)

    def blind_indexes(self, e164: str) -> list[str]:
        """The phone's blind index under every key held (current first): what a lookup matches."""
        return [k.blind_index(e164) for k in self._keys]

    def encrypt(self, text: str, context: str) -> str:
        """``text`` sealed under the current key with a random nonce, as ``<key id>:<base64>``;
        ``context`` (e.g. ``member-id:name``) binds it to its row and field, so a ciphertext moved
        elsewhere fails to decrypt."""
        current = self._keys[0]
        return current.seal(current.id, text, context)

    def encrypt_for(self, data_key: bytes, text: str, context: str) -> str:
        """``text`` sealed under a member's ``data_key`` (not the business key), as ``dk-<id>:<base64>``;
        whoever lacks that member's data key cannot open it, whatever business key they hold."""
        return _OneKey(data_key).seal(data_key_name(data_key), text, context)

    def decrypt(self, token: str, context: str) -> str:
        """The text :meth:`encrypt` sealed; raises PiiError on a key not held, a wrong context or an edit."""
        return self.decrypt_with_id(token, context)[0]

    def decrypt_with_id(self, token: str, context: str) -> tuple[str, str]:
        """(text, id of the key that opened it); PiiError as :meth:`decrypt`."""
        named, _, body = token.rpartition(":")
        if named.startswith(DATA_KEY_PREFIX):
            return self._open_with_data_key(named, body, context), named
        if named:
            key = self._by_id.get(named)
            if key is None:
                raise PiiError(f"cannot decrypt {context}: key {named} is not held here")
            candidates = [key]
        else:  # written before ciphertexts named their key
            candidates = self._keys
        for key in candidates:
            plain = key.open(body, context)
            if plain is not None:
                return plain, key.id
        raise PiiError(f"cannot decrypt {context}: wrong key or altered data")

    def encrypt_member(self, text: str, context: str) -> str:
        """``text`` under the data key of the member ``context`` names (``<member id>:<field>``) when
        they have one here, else under the current business key (a member from before data keys)."""
        member_id = context.rpartition(":")[0]
        wrapped = self._data_keys(member_id) if self._data_keys is not None else None
        if not wrapped:
            return self.encrypt(text, context)
        return self.encrypt_for(self.unwrap_data_key(wrapped, member_id), text, context)

    def _open_with_data_key(self, named: str, body: str, context: str) -> str:
        member_id = context.rpartition(":")[0]  # contexts are ``<member id>:<field>``
        wrapped = self._data_keys(member_id) if self._data_keys is not None else None
        if not wrapped:
            raise PiiError(f"cannot decrypt {context}: the member's data key is not held here (erased?)")
        data_key = self.unwrap_data_key(wrapped, member_id)
        if data_key_name(data_key) != named:
            raise PiiError(f"cannot decrypt {context}: it is under another data key")
        plain = _OneKey(data_key).open(body, context)
        if plain is None:
            raise PiiError(f"cannot decrypt {context}: wrong key or altered data")
        return plain

    def reencrypt(self, token: str, context: str) -> str:
        """``token`` under the current key (unchanged when it already is, or when it is under a
        member's data key: rotation re-wraps that key instead); PiiError as :meth:`decrypt`."""
        if not token or token.startswith((f"{self.key_id}:", DATA_KEY_PREFIX)):
            return token
        return self.encrypt(self.decrypt(token, context), context)

    def wrap_data_key(self, data_key: bytes, member_id: str) -> str:
        """A member's data key sealed under the current business key, bound to the member's id, as
        ``<business key id>:<base64>``: how it travels (``member.registered``, the member feed) and rests."""
        current = self._keys[0]
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(current.data_wrap_key).encrypt(nonce, data_key, f"data-key:{member_id}".encode())
        return f"{current.id}:{base64.b64encode(nonce + sealed).decode()}"

    def unwrap_data_key(self, wrapped: str, member_id: str) -> bytes:
        """The data key :meth:`wrap_data_key` sealed for ``member_id``; PiiError when its business key
        is not held, or it was altered or wrapped for another member."""
        by, _, body = wrapped.rpartition(":")
        key = self._by_id.get(by)
        if key is None:
            raise PiiError(f"member {member_id}: the data key is wrapped under key {by}, not held here")
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            raw = base64.b64decode(body)
            return AESGCM(key.data_wrap_key).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], f"data-key:{member_id}".encode()
            )
        except Exception as exc:
            raise PiiError(f"member {member_id}: the data key does not open (altered?)") from exc

    def rewrap_data_key(self, wrapped: str, member_id: str) -> str:
        """``wrapped`` under the current business key (unchanged when it already is); PiiError as
        :meth:`unwrap_data_key`."""
        if wrapped.startswith(f"{self.key_id}:"):
            return wrapped
        return self.wrap_data_key(self.unwrap_data_key(wrapped, member_id), member_id)

    def wrap_current(self, by: str) -> str:
        """The current key sealed under the held key ``by``'s wrapping sub-key: how a terminal that
        holds ``by`` receives the current key over the member downlink."""
        wrapper = self._by_id[by]
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(wrapper.wrap_key).encrypt(nonce, self._keys[0].raw, f"key:{self.key_id}".encode())
        return base64.b64encode(nonce + sealed).decode()

    def unwrap(self, wrapped: str, key_id: str, by: str) -> bytes:
        """The key ``key_id`` that :meth:`wrap_current` sealed under the held key ``by``; PiiError
        when ``by`` is not held or the wrapping does not open to a key with that id."""
        wrapper = self._by_id.get(by)
        if wrapper is None:
            raise PiiError(f"key {key_id} is wrapped under key {by}, which is not held here")
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        raw = base64.b64decode(wrapped)
        try:
            key = AESGCM(wrapper.wrap_key).decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], f"key:{key_id}".encode()
            )
        except Exception as exc:
            raise PiiError(f"key {key_id}: the wrapping under {by} does not open") from exc
        if key_id_of(key) != key_id:
            raise PiiError(f"key {key_id}: the unwrapped key has another id")
        return key

    def older(self, key_id: str) -> "PiiKey":
        """This ring with the held key ``key_id`` as its current one (to seal it for a terminal)."""
        first = self._by_id[key_id]
        return PiiKey(first.raw, tuple(k.raw for k in self._keys if k.id != key_id), self._data_keys)

    def holds(self, key_id: str) -> bool:
        """True when the key ``key_id`` is one of this ring's."""
        return key_id in self._by_id


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
