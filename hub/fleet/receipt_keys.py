"""Each terminal's receipt key: what signs the e-receipt links it prints (``kiosk.domain.receipt_link``).

The hub keeps one secret, ``receipt.key`` in its data directory (0600, made by the
first ``hub device add``), and derives a terminal's key as
HMAC-SHA256(secret, ``receipt-key.v1:{device id}``). ``hub device add`` writes that
key into the terminal's kiosk.toml (``[device] receipt_key``); the hub derives it
again when a link arrives, so it stores nothing per terminal, and a terminal's key
says nothing about another's.
"""

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

RECEIPT_KEY_FILE = "receipt.key"


def receipt_secret(data_dir: Path, create: bool = False) -> bytes | None:
    """The hub's receipt secret in ``data_dir``; made there when ``create`` (else None if missing)."""
    path = Path(data_dir) / RECEIPT_KEY_FILE
    if not path.exists():
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another `hub device add` made it first; use theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return base64.b64decode(path.read_text().strip())


def device_receipt_key(secret: bytes, device_id: str) -> bytes:
    """The 32-byte key with which terminal ``device_id`` signs its receipt links."""
    return hmac.new(secret, f"receipt-key.v1:{device_id}".encode(), hashlib.sha256).digest()


def device_receipt_key_text(data_dir: Path, device_id: str) -> str:
    """``device_id``'s receipt key as kiosk.toml holds it (base64), making the hub's secret if needed."""
    secret = receipt_secret(data_dir, create=True)
    assert secret is not None
    return base64.b64encode(device_receipt_key(secret, device_id)).decode()
