"""Start ``kiosk run`` / ``kiosk sync`` from ``kiosk.toml`` (until they take ``--config``).

``kiosk.service`` and ``kiosk-sync.service`` run ``python -m kiosk.launch run|sync``:
this reads and validates the provisioning file, then replaces itself (same
PID, so systemd's ``NotifyAccess=main`` still holds) with ``kiosk run`` or
``kiosk sync`` and the file's settings. The password goes through the environment, never the command line
(which every user can read in /proc).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from kiosk.config import ConfigError, KioskConfig, load_config

__all__ = ["main", "run_command", "sync_command"]

DEFAULT_CONFIG = "/etc/kiosk/kiosk.toml"


def _ca_file(config: KioskConfig, runtime_dir: Path) -> str | None:
    """A path to the broker's CA: the configured path, or PEM text written to ``runtime_dir``."""
    tls = config.broker.tls
    if tls is None:
        return None
    return _pem_file(tls.ca, runtime_dir / "broker-ca.pem")


def _pem_file(value: str, path: Path) -> str:
    """``value`` if it is a path; else PEM text written to ``path`` (mode 0600: it may be a key)."""
    if value.startswith("/"):
        return value
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(value)
    return str(path)


def run_command(config_path: str, kiosk: str) -> list[str]:
    """The argv that runs the touchscreen app: it reads store, device, data and devices from the file."""
    return [kiosk, "run", "--config", config_path]


def sync_command(config: KioskConfig, kiosk: str, runtime_dir: Path) -> tuple[list[str], dict[str, str]]:
    """The argv and extra environment that run ``kiosk sync`` for ``config``."""
    argv = [
        kiosk,
        "sync",
        "--db",
        config.data.path,
        "--device",
        config.device.id,
        "--broker-host",
        config.broker.host,
        "--broker-port",
        str(config.broker.port),
        "--username",
        config.broker.username,
    ]
    ca = _ca_file(config, runtime_dir)
    if ca is not None:
        argv += ["--ca-file", ca]
    tls = config.broker.tls
    if tls is not None and tls.client_cert and tls.client_key:
        argv += ["--client-cert", _pem_file(tls.client_cert, runtime_dir / "client.pem")]
        argv += ["--client-key", _pem_file(tls.client_key, runtime_dir / "client.key")]
    if config.broker.hub_url:
        argv += ["--hub-url", config.broker.hub_url]
    return argv, {"KIOSK_MQTT_PASSWORD": config.broker.password}


def main(argv: list[str] | None = None) -> None:
    """``python -m kiosk.launch run|sync [CONFIG]``: validate, then exec ``kiosk run|sync``."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in ("run", "sync"):
        sys.exit("usage: python -m kiosk.launch run|sync [/etc/kiosk/kiosk.toml]")
    path = args[1] if len(args) > 1 else os.environ.get("KIOSK_CONFIG", DEFAULT_CONFIG)
    try:
        config = load_config(path)
    except ConfigError as exc:
        sys.exit(f"kiosk {args[0]}: {exc}")
    kiosk = str(Path(sys.executable).with_name("kiosk"))
    runtime = Path(os.environ.get("RUNTIME_DIRECTORY", "/run/kiosk-sync"))
    if args[0] == "run":
        command, extra = run_command(path, kiosk), {}
    else:
        command, extra = sync_command(config, kiosk, runtime)
    os.execve(kiosk, command, {**os.environ, **extra})


if __name__ == "__main__":
    main()
