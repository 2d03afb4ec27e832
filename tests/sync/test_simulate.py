"""``hub simulate``: headless kiosks (real till and sync processes) against two hub workers on PostgreSQL."""

import json

import pytest
from click.testing import CliRunner

from hub.cli import main as hub_main


@pytest.mark.parametrize("hub_db_url", ["postgresql"], indirect=True)
def test_simulated_kiosks_sell_and_two_workers_book_every_sale_once(tmp_path, hub_db_url: str) -> None:  # type: ignore[no-untyped-def]
    args = ["simulate", "--kiosks", "3", "--sales", "40", "--workers", "2", "--db", hub_db_url,
            "--batch-size", "10", "--workdir", str(tmp_path)]  # fmt: skip
    result = CliRunner().invoke(hub_main, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["kiosks"], report["workers"], report["database"]) == (3, 2, "postgresql")
    assert (report["events"], report["hub_sales"], report["exact"]) == (120, 120, True)
    assert report["hub_fen"] == report["kiosk_fen"] > 0
