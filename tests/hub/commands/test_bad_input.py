"""The ``hub`` command on bad input: one clear zh/en line and exit 1, no traceback, no stray database."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import main as hub_main
from hub.db import DEFAULT_DB


def hub(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(hub_main, list(args))
    assert "Traceback" not in result.output and not isinstance(result.exception, (TypeError, AttributeError))
    return result.exit_code, result.output


def test_the_default_database_is_an_absolute_path() -> None:
    assert DEFAULT_DB == "sqlite:////var/lib/hub/hub.db"


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("hub.db", "use sqlite:////var/lib/hub/hub.db (four slashes"),
        ("mysql://x", "数据库地址应为 sqlite:////绝对路径 或 postgresql://"),
        (
            "postgresql://kiosk:secret@127.0.0.1:1/hub",
            "cannot open the hub database postgresql://kiosk:***@127.0.0.1:1/hub",
        ),
    ],
)
def test_a_database_url_the_hub_cannot_use_is_one_line(url: str, said: str) -> None:
    code, output = hub("db-migrate", "--db", url)
    assert code == 1 and said in output and "secret" not in output
    assert len(output.strip().splitlines()) == 1


def test_a_directory_as_database_and_a_bad_port_are_explained(tmp_path: Path) -> None:
    code, output = hub("db-migrate", "--db", f"sqlite:///{tmp_path}")
    assert code == 1 and "is a directory; name a file" in output
    code, output = hub("serve", "--http-port", "99999")
    assert code == 2 and "99999 is not in the range 1<=x<=65535" in output


@pytest.mark.parametrize(
    "command",
    [["rules", "show"], ["audit", "verify"], ["user", "list"], ["token", "list"], ["campaign", "list"],
     ["quarantine", "list"], ["member", "show", "m-1"]],
)  # fmt: skip
def test_read_only_commands_never_create_a_database(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "nowhere" / "hub.db"
    code, output = hub(*command, "--db", f"sqlite:///{missing}")
    assert code == 1 and f"no hub database at {missing}" in output
    assert not (tmp_path / "nowhere").exists()


def test_device_list_of_a_missing_registry_says_so_and_creates_nothing(tmp_path: Path) -> None:
    code, output = hub("device", "list", "--data-dir", str(tmp_path / "nowhere"))
    assert code == 1 and "no device registry in" in output and not (tmp_path / "nowhere").exists()
    code, output = hub("device", "list", "--data", str(tmp_path / "nowhere"))  # the old name still works
    assert code == 1 and "终端登记表" in output
