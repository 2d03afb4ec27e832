"""``hub rules ...``: show and set the owner's loyalty rules (积分与等级规则)."""

import datetime as dt
import json
from pathlib import Path

import click

from hub.db import DEFAULT_DB, transaction
from hub.db.schema import open_hub_database
from hub.rules import store as rules_store


@click.group("rules")
def rules() -> None:
    """The owner's loyalty rules: earn, redeem, expiry, tiers, stored value, offline caps."""


@rules.command("show")
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
def show(db_url: str) -> None:
    """Print the current rules as JSON, with their version (0: the defaults, never saved)."""

    open_hub_database(db_url, create=False)
    version, current = rules_store.current()
    body = {"version": version, "rules": current.model_dump(mode="json")}
    click.echo(json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True))


@rules.command("set")
@click.option(
    "--file", "rules_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--by", required=True, help="who changes them, for the audit")
@click.option("--db", "db_url", default=DEFAULT_DB, show_default=True)
def set_rules(rules_file: Path, by: str, db_url: str) -> None:
    """Save the rules in a JSON file as the next version (audited); terminals get them with the
    next `hub config publish`. A bad file is refused, naming each wrong field, and nothing is saved."""

    try:
        body = json.loads(rules_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{rules_file}: 不是 JSON / not JSON: {exc}") from exc
    open_hub_database(db_url)
    try:
        with transaction():
            version = rules_store.save_rules(body, by, dt.datetime.now(dt.UTC))
    except rules_store.RulesRefused as exc:
        raise click.ClickException(f"{rules_file}: {exc}") from exc
    click.echo(
        f"规则版本 {version} 已保存 / rules version {version} saved; publish with `hub config publish`"
    )
