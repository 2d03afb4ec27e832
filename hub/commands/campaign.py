"""``hub campaign ...``: create, list and run campaigns from the command line."""

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from hub.campaigns import runs as campaigns
from hub.db import DEFAULT_DB, transaction
from hub.db.schema import open_hub_database
from kiosk.domain.loyalty.campaigns import CampaignSpec


@click.group("campaign")
def campaign() -> None:
    """Campaigns that issue coupons: create, list, run."""


@campaign.command("create")
@click.argument("spec_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--by", required=True, help="who creates it, for the audit")
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
def create(spec_file: Path, by: str, db_url: str) -> None:
    """Create a campaign from a JSON file: name_zh, name_en, coupon (template) and target.

    Example: {"name_zh": "会员日满100减20", "coupon": {"kind": "threshold", "name_zh": "满100减20",
    "min_spend_fen": 10000, "off_fen": 2000, "valid_days": 14}, "target": {"kind": "tier", "tier": "gold"}}
    """
    from pydantic import ValidationError

    try:
        spec = CampaignSpec.model_validate(json.loads(spec_file.read_text(encoding="utf-8")))
    except ValidationError as exc:
        raise click.ClickException(
            f"{spec_file}: not a valid campaign / 活动定义有误:\n{campaigns.explain(exc)}"
        ) from exc
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{spec_file}: not JSON / 不是 JSON 文件: {exc}") from exc
    open_hub_database(db_url)
    with transaction():
        new_id = campaigns.create_campaign(spec, by, dt.datetime.now(dt.UTC))
    click.echo(new_id)


@campaign.command("list")
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
def list_campaigns(db_url: str) -> None:
    """Every campaign: id, target, coupons issued and used, name."""

    open_hub_database(db_url, create=False)
    for row in campaigns.campaigns():
        target = row["spec"].target.kind  # type: ignore[attr-defined]
        click.echo(f"{row['id']}  {target}  issued={row['issued']} used={row['used']}  {row['name_zh']}")


@campaign.command("run")
@click.argument("campaign_id")
@click.option("--by", required=True, help="who runs it, for the audit")
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
@click.option("--timezone", "tz_name", default="Asia/Shanghai", show_default=True)
def run(campaign_id: str, by: str, db_url: str, tz_name: str) -> None:
    """Issue the campaign's coupon to every targeted member who has none from it yet."""

    open_hub_database(db_url)
    try:
        with transaction():
            result = campaigns.run_campaign(campaign_id, by, dt.datetime.now(dt.UTC), ZoneInfo(tz_name))
    except campaigns.CampaignError as exc:
        raise click.ClickException(str(exc)) from exc
    held = f", {result.held_out} held out (control group)" if result.held_out else ""
    click.echo(f"targeted {result.targeted} members, issued {result.issued} new coupons{held}")
