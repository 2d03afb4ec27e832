"""Backups sealed for the owner: only the holder of the owner's private key can open them.

The hub keeps only the owner's *public* key (``backup.pub`` in its data directory), so a
scheduled backup needs no secret on the hub, and a stolen disk or a copied backup folder
reveals nothing: opening a backup needs ``backup.key``, which the owner keeps away from the
hub (a USB stick in the safe, a password manager).

File format (version 1)::

    MAGIC | ephemeral X25519 public key (32 bytes) | chunk*
    chunk = length (4 bytes, big-endian) | AES-256-GCM ciphertext of up to 1 MiB

The file key is HKDF-SHA256 over the X25519 agreement between a fresh ephemeral key and the
owner's key. Chunk ``i`` is sealed with the nonce ``i`` and the associated data ``MAGIC`` plus
a last-chunk flag, so a reordered, cut or edited file fails to open instead of restoring
something else.
"""

import os
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.errors import HubError

MAGIC = b"MKHUBBACKUP1\n"
CHUNK = 1 << 20
_INFO = b"member-kiosk hub backup v1"


class SealError(HubError):
    """A key or a sealed backup that cannot be used; the message says why (zh/en)."""


def make_keys(private_path: Path, public_path: Path) -> None:
    """Write a new owner key pair: ``private_path`` (mode 0600) and ``public_path``; never overwrite."""
    for path in (private_path, public_path):
        if path.exists():
            raise SealError(f"{path} already exists: not overwritten / {path} 已存在，不会覆盖")
    key = X25519PrivateKey.generate()
    secret = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(secret)
    public_path.write_bytes(public)


def load_public(path: Path) -> X25519PublicKey:
    """The owner's public key from ``path``; SealError when missing or not such a key."""
    try:
        key = serialization.load_pem_public_key(_read_key(path, "public"))
    except ValueError:
        key = None
    if not isinstance(key, X25519PublicKey):
        raise SealError(f"{path} is not a backup public key / {path} 不是备份公钥")
    return key


def load_private(path: Path) -> X25519PrivateKey:
    """The owner's private key from ``path``; SealError when missing or not such a key."""
    try:
        key = serialization.load_pem_private_key(_read_key(path, "private"), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, X25519PrivateKey):
        raise SealError(f"{path} is not a backup private key / {path} 不是备份私钥")
    return key


def _read_key(path: Path, kind: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SealError(
            f"cannot read the backup {kind} key {path}: {exc.strerror}. Make one with `hub backup-key`"
            f" / 无法读取备份密钥 {path}，请先运行 hub backup-key 生成"
        ) from exc
    if b"-----BEGIN" not in data:
        raise SealError(f"{path} is not a PEM key file / {path} 不是密钥文件")
    return data


def _file_key(shared: bytes, ephemeral: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral, info=_INFO).derive(shared)
    return AESGCM(derived)


def seal(source: BinaryIO, target: BinaryIO, owner: X25519PublicKey) -> None:
    """Encrypt everything read from ``source`` into ``target`` for the owner's key."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    aead = _file_key(ephemeral.exchange(owner), ephemeral_public)
    target.write(MAGIC + ephemeral_public)
    index, block = 0, source.read(CHUNK)
    while True:
        following = source.read(CHUNK)
        last = not following
        sealed = aead.encrypt(index.to_bytes(12, "big"), block, MAGIC + bytes([last]))
        target.write(len(sealed).to_bytes(4, "big") + sealed)
        if last:
            return
        index, block = index + 1, following


def unseal(source: BinaryIO, target: BinaryIO, owner: X25519PrivateKey) -> None:
    """Decrypt a sealed backup from ``source`` into ``target``; SealError when it does not open."""
    if source.read(len(MAGIC)) != MAGIC:
        raise SealError("not a sealed hub backup / 不是加密的中心备份文件")
    ephemeral_public = source.read(32)
    try:
        shared = owner.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        aead = _file_key(shared, ephemeral_public)
    except ValueError as exc:
        raise SealError("the backup file is cut short / 备份文件不完整") from exc
    index = 0
    while True:
        size = int.from_bytes(source.read(4), "big")
        sealed = source.read(size)
        if size == 0 or len(sealed) != size:
            raise SealError("the backup file is cut short / 备份文件不完整")
        last = _at_end(source)
        try:
            target.write(aead.decrypt(index.to_bytes(12, "big"), sealed, MAGIC + bytes([last])))
        except InvalidTag as exc:
            raise SealError(
                "the backup does not open with this key, or it was changed or cut short"
                " / 此密钥无法打开该备份，或备份已被改动、不完整"
            ) from exc
        if last:
            return
        index += 1


def _at_end(source: BinaryIO) -> bool:
    here = source.tell()
    at_end = not source.read(1)
    source.seek(here)
    return at_end
