"""``hub broker-config``: a tested mosquitto.conf, the ACL patterns, password entries and TLS files.

File layout (shared with ``hub device add/revoke``, which maintains the two
credential files and reloads the broker with SIGHUP)::

    {broker_dir}/passwd          password_file (one ``user:$7$...`` line per device, and the hub)
    {broker_dir}/acl             acl_file
    {broker_dir}/tls/ca.pem      CA certificate; copied into every kiosk.toml
    {broker_dir}/tls/ca.key      CA key (keep offline after provisioning)
    {broker_dir}/tls/broker.pem  broker certificate, signed by the CA
    {broker_dir}/tls/broker.key  broker key
    {broker_dir}/tls/crl.pem     revoked client certificates (with ``--require-client-cert``)
    {broker_dir}/tls/clients/    a copy of each client certificate issued, by device id

With ``require_certificate`` the TLS listener takes a device's identity from the
common name of its client certificate (``use_identity_as_username``): the ACL's
``%u`` is then the device id the hub's CA signed, and no password is asked there.
The plain listener is bound to loopback for the hub's own workers.
"""

import base64
import datetime as dt
import hashlib
import ipaddress
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HUB_USER = "hub"
MAX_PACKET_BYTES = 1024 * 1024 + 1024  # the hub's 1 MiB message limit plus MQTT headers
PBKDF2_ITERATIONS = 101  # Mosquitto 2's own default for the $7$ format


@dataclass(frozen=True)
class BrokerLayout:
    """Where the broker listens and keeps its files."""

    broker_dir: Path = Path("/etc/mosquitto/kiosk")
    data_dir: Path = Path("/var/lib/mosquitto")
    port: int | None = 1883  # plain MQTT; None for TLS only
    bind: str = "0.0.0.0"
    tls_port: int | None = 8883
    run_as: str = "mosquitto"
    require_certificate: bool = False  # True: kiosks must also present a client certificate
    log_dest: str = "syslog"

    @property
    def passwd(self) -> Path:
        """The password file."""
        return self.broker_dir / "passwd"

    @property
    def acl(self) -> Path:
        """The ACL file."""
        return self.broker_dir / "acl"

    @property
    def tls_dir(self) -> Path:
        """Where the CA and broker certificates live."""
        return self.broker_dir / "tls"


def render_conf(layout: BrokerLayout) -> str:
    """mosquitto.conf for the hub's broker. Every line is there for a reason, said above it."""
    lines = [
        "# Mosquitto for Member Kiosk, written by `hub broker-config`. 由 hub broker-config 生成。",
        f"user {layout.run_as}",
        "# One set of credentials and ACL for every listener.",
        "per_listener_settings false",
        "allow_anonymous false",
        f"password_file {layout.passwd}",
        f"acl_file {layout.acl}",
        "# Sessions and queued QoS 1 messages survive a broker restart.",
        "persistence true",
        f"persistence_location {layout.data_dir}/",
        "autosave_interval 60",
        "autosave_on_changes false",
        "# Never drop a queued QoS 1 message silently: no count or byte cap (the kiosk outbox is",
        "# the real queue; abandoned sessions expire below, which bounds memory).",
        "max_queued_messages 0",
        "max_queued_bytes 0",
        "max_inflight_messages 0",
        "persistent_client_expiration 14d",
        "# The hub accepts up to 1 MiB per message; larger ones are refused at the door (MQTT v5 says why).",
        f"max_packet_size {MAX_PACKET_BYTES}",
        "# Retained config per device plus one status each: small, but never zero.",
        "retain_available true",
        "# Acks are small writes right after a PUBACK: without this each waits ~40 ms for Nagle.",
        "set_tcp_nodelay true",
        f"log_dest {layout.log_dest}",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "connection_messages true",
    ]
    if layout.port is not None and layout.require_certificate:
        lines += ["", "# Plain MQTT for the hub's workers on this machine only: kiosks must use TLS with a",
                  "# client certificate, so no password may open a door around it.",
                  f"listener {layout.port} 127.0.0.1", "protocol mqtt"]  # fmt: skip
    elif layout.port is not None:
        lines += ["", "# Plain MQTT (LAN or loopback only; use TLS across untrusted networks).",
                  f"listener {layout.port} {layout.bind}", "protocol mqtt"]  # fmt: skip
    if layout.tls_port is not None:
        tls = layout.tls_dir
        lines += [
            "",
            "# MQTT over TLS: kiosks verify the broker against ca.pem.",
            f"listener {layout.tls_port} {layout.bind}",
            "protocol mqtt",
            f"cafile {tls / 'ca.pem'}",
            f"certfile {tls / 'broker.pem'}",
            f"keyfile {tls / 'broker.key'}",
            "tls_version tlsv1.2",
            f"require_certificate {'true' if layout.require_certificate else 'false'}",
        ]
        if layout.require_certificate:
            lines += [
                "# The device id is the certificate's common name (the ACL's %u); no password here.",
                "use_identity_as_username true",
                "# Certificates of revoked devices (hub device revoke); read again on reload (SIGHUP).",
                f"crlfile {tls / 'crl.pem'}",
            ]
    return "\n".join(lines) + "\n"


def render_acl(hub_user: str = HUB_USER) -> str:
    """The ACL: the hub reads every uplink and writes every downlink; a device only its own topics."""
    return "\n".join(
        [
            "# Written by `hub broker-config`. 终端只能访问自己的主题。",
            f"user {hub_user}",
            "topic read pos/+/up/#",
            "topic read pos/+/status",
            "topic write pos/+/down/#",
            "",
            "# Every device (username = device id):",
            "pattern write pos/%u/up/#",
            "pattern write pos/%u/status",
            "pattern read pos/%u/down/#",
            "",
        ]
    )


def password_line(username: str, password: str, salt: bytes | None = None) -> str:
    """A password_file line in Mosquitto 2's PBKDF2-SHA512 format (``$7$``)."""
    if ":" in username or not username:
        raise ValueError(f"用户名无效 / invalid broker username {username!r}")
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS)
    encoded = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
    return f"{username}:$7${PBKDF2_ITERATIONS}${encoded[0]}${encoded[1]}"


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files `generate_tls` wrote."""

    ca_cert: Path
    ca_key: Path
    broker_cert: Path
    broker_key: Path
    names: list[str] = field(default_factory=list)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Member Kiosk"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])  # fmt: skip


def _server_cert(
    hostnames: list[str],
    key: ec.EllipticCurvePrivateKey,
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    start: dt.datetime,
    end: dt.datetime,
) -> x509.Certificate:
    """A server certificate for ``hostnames`` (DNS names or IP addresses) signed by the hub's CA."""
    alt_names: list[x509.GeneralName] = []
    for host in hostnames:
        try:
            alt_names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt_names.append(x509.DNSName(host))
    return (
        x509.CertificateBuilder()
        .subject_name(_name(hostnames[0]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )


def generate_tls(tls_dir: Path, hostnames: list[str], now: dt.datetime, days: int = 3650) -> TlsFiles:
    """Create a CA and a broker certificate for ``hostnames`` (DNS names or IP addresses)."""
    tls_dir.mkdir(parents=True, exist_ok=True)
    ca_key, broker_key = _key(), _key()
    start, end = now - dt.timedelta(minutes=5), now + dt.timedelta(days=days)
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Member Kiosk hub CA"))
        .issuer_name(_name("Member Kiosk hub CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    broker = _server_cert(hostnames, broker_key, ca, ca_key, start, end)
    files = TlsFiles(tls_dir / "ca.pem", tls_dir / "ca.key", tls_dir / "broker.pem", tls_dir / "broker.key",
                     list(hostnames))  # fmt: skip
    files.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.broker_cert.write_bytes(broker.public_bytes(serialization.Encoding.PEM))
    _write_key(files.ca_key, ca_key)
    _write_key(files.broker_key, broker_key)
    return files


def write_broker_files(layout: BrokerLayout, hostnames: list[str], hub_password: str | None) -> list[Path]:
    """Write mosquitto.conf, the ACL, the hub's password entry and (if missing) the TLS files."""
    layout.broker_dir.mkdir(parents=True, exist_ok=True)
    written = []
    conf = layout.broker_dir / "mosquitto.conf"
    conf.write_text(render_conf(layout), encoding="utf-8")
    written.append(conf)
    if not layout.acl.exists():
        layout.acl.write_text(render_acl(), encoding="utf-8")
        written.append(layout.acl)
    if hub_password is not None:
        kept = [line for line in _lines(layout.passwd) if not line.startswith(f"{HUB_USER}:")]
        layout.passwd.write_text("\n".join([*kept, password_line(HUB_USER, hub_password)]) + "\n")
        layout.passwd.chmod(0o600)
        written.append(layout.passwd)
    if layout.tls_port is not None and not (layout.tls_dir / "broker.pem").exists():
        files = generate_tls(layout.tls_dir, hostnames, dt.datetime.now(dt.UTC))
        written += [files.ca_cert, files.broker_cert]
    if layout.tls_port is not None and layout.require_certificate and not crl_path(layout.tls_dir).exists():
        written.append(write_crl(layout.tls_dir, [], dt.datetime.now(dt.UTC)))
    return written


def _ca(tls_dir: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = x509.load_pem_x509_certificate((tls_dir / "ca.pem").read_bytes())
    key = serialization.load_pem_private_key((tls_dir / "ca.key").read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{tls_dir / 'ca.key'}: not the EC key `hub broker-config` writes")
    return cert, key


def client_cert_path(tls_dir: Path, common_name: str) -> Path:
    """Where the copy of ``common_name``'s client certificate is kept (for revocation)."""
    return tls_dir / "clients" / f"{common_name}.pem"


def issue_client_cert(tls_dir: Path, common_name: str, now: dt.datetime, days: int = 3650) -> tuple[str, str]:
    """A client certificate for ``common_name`` (a device id) signed by the hub's CA: (cert, key) PEM.

    The broker takes the common name as the MQTT username (``use_identity_as_username``).
    A copy of the certificate stays in ``tls/clients/`` so ``hub device revoke`` can list it
    in the CRL; the key is only returned (it goes into the device's kiosk.toml).
    """
    if not common_name or "/" in common_name or common_name.startswith("."):
        raise ValueError(f"证书名称无效 / invalid certificate name {common_name!r}")
    ca, ca_key = _ca(tls_dir)
    key = _key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    copy = client_cert_path(tls_dir, common_name)
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(cert_pem)
    return cert_pem, key_pem


def crl_path(tls_dir: Path) -> Path:
    """The certificate revocation list the broker reads (``crlfile``)."""
    return tls_dir / "crl.pem"


def revoked_serials(tls_dir: Path) -> list[int]:
    """Serial numbers the CRL lists now."""
    path = crl_path(tls_dir)
    if not path.exists():
        return []
    return [entry.serial_number for entry in x509.load_pem_x509_crl(path.read_bytes())]


def write_crl(tls_dir: Path, serials: list[int], now: dt.datetime, days: int = 3650) -> Path:
    """Write the CRL listing ``serials``, signed by the hub's CA."""
    ca, ca_key = _ca(tls_dir)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=days))
    )
    for serial in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
        )
    path = crl_path(tls_dir)
    path.write_bytes(builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    return path


def revoke_client_cert(tls_dir: Path, common_name: str, now: dt.datetime) -> bool:
    """Add ``common_name``'s client certificate to the CRL; False when none was issued to it."""
    copy = client_cert_path(tls_dir, common_name)
    if not copy.exists():
        return False
    serial = x509.load_pem_x509_certificate(copy.read_bytes()).serial_number
    write_crl(tls_dir, sorted({*revoked_serials(tls_dir), serial}), now)
    return True


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def issue_server_cert(
    tls_dir: Path, hostnames: list[str], now: dt.datetime, days: int = 825
) -> tuple[Path, Path]:
    """The dashboard's HTTPS certificate for ``hostnames``, signed by the hub's CA: (cert, key) paths.

    Written as ``web.pem`` and ``web.key`` next to the CA; terminals already trust that CA (their
    ``kiosk.toml`` carries it for the broker), so they verify the hub without anything new.
    """
    ca, ca_key = _ca(tls_dir)
    key = _key()
    cert = _server_cert(
        hostnames, key, ca, ca_key, now - dt.timedelta(minutes=5), now + dt.timedelta(days=days)
    )
    cert_path, key_path = tls_dir / "web.pem", tls_dir / "web.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key_path, key)
    return cert_path, key_path
