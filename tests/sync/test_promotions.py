"""The attract screen's promotions: published by the hub, applied by the agent, rotated by the app."""

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from hub.catalog import releases as hub_catalog
from hub.cli import main as hub_main
from hub.db.schema import open_hub_database
from kiosk.devtools.broker import MosquittoBroker
from kiosk.flows.idle import IdleFlow
from kiosk.sync import config
from tests.sync.harness import AgentThread, wait_until

TEA = {"sku": "T1", "barcode": "6901010370005", "name_zh": "绿茶", "name_en": "Green tea", "price_fen": 300}
AUTUMN = [
    {"zh": "秋季新品：桂花拿铁 第二杯半价", "en": "New for autumn: osmanthus latte, 2nd cup half price"},
    {"zh": "周五会员日 积分三倍", "en": "Friday member day: triple points"},
]
WINTER = [{"zh": "冬至饺子 买二送一", "en": "Winter solstice dumplings: buy 2 get 1 free"}]


class AttractScreen(IdleFlow):
    """The app's promotion rotation on its own: the IdleFlow methods over the real store."""

    def __init__(self) -> None:
        self.settings = SimpleNamespace(promotions=("promo_1", "promo_2", "promo_3"))
        self.promos: list[dict[str, str]] = []
        self.promo_index = 0
        self._promo_version = -1

    def shown(self, lang: str) -> str:
        return self.promo_line(self.promos, self.promo_index, lang)


def publish(hub_url: str, port: int, *extra: str) -> str:
    args = ["config", "publish", "--db", hub_url, "--device", "KP", "--mqtt-port", str(port), *extra]
    result = CliRunner().invoke(hub_main, args)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_hubs_promotions_replace_the_built_in_ones_and_a_new_release_is_picked_up(
    tmp_path: Path,
    kiosk_db,
    broker: MosquittoBroker,  # type: ignore[no-untyped-def]
) -> None:
    hub_url = f"sqlite:///{tmp_path / 'hub.db'}"
    open_hub_database(hub_url)
    hub_catalog.load_catalog([TEA])
    attract = AttractScreen()
    attract.next_promotion()  # nothing sent yet: the built-in promotions
    assert attract.shown("zh") == "会员日：每周三全场积分翻倍"
    attract.next_promotion()
    assert attract.shown("en") == "Fresh bread from 7 am every day"

    autumn = tmp_path / "autumn.json"
    autumn.write_text(json.dumps(AUTUMN, ensure_ascii=False), encoding="utf-8")
    assert publish(hub_url, broker.port, "--promotions", str(autumn)) == (
        "config version 1 published to 1 devices: KP\n"
    )
    agent = AgentThread(broker.port, device="KP")
    try:
        wait_until(lambda: config.running_version() == 1, what="release 1 applied")
        attract.next_promotion()  # the new version is noticed: its first promotion, from the start
        assert (attract.shown("zh"), attract.shown("en")) == (
            "秋季新品：桂花拿铁\u00a0第二杯半价",  # a space in Chinese never breaks the line
            "New for autumn: osmanthus latte, 2nd cup half price",
        )
        attract.next_promotion()
        assert attract.shown("en") == "Friday member day: triple points"
        attract.next_promotion()
        assert attract.shown("en") == AUTUMN[0]["en"]  # round again

        publish(hub_url, broker.port)  # a price change without --promotions keeps them
        wait_until(lambda: config.running_version() == 2, what="release 2 applied")
        assert [p.model_dump() for p in config.applied_promotions()] == AUTUMN
        hub_catalog.new_release(dt.datetime.now(dt.UTC))  # as the dashboard's Publish button does
        assert hub_catalog.latest_release().settings == {"promotions": AUTUMN}  # type: ignore[union-attr]

        winter = tmp_path / "winter.json"
        winter.write_text(json.dumps(WINTER, ensure_ascii=False), encoding="utf-8")
        publish(hub_url, broker.port, "--promotions", str(winter))
        wait_until(lambda: config.running_version() == 4, what="release 4 applied")
        attract.next_promotion()
        assert (attract.promos, attract.shown("zh")) == (WINTER, "冬至饺子\u00a0买二送一")
        attract.next_promotion()
        assert attract.shown("en") == "Winter solstice dumplings: buy 2 get 1 free"
    finally:
        agent.close()


@pytest.mark.parametrize(
    ("promotions", "problem"),
    [
        ([{"zh": "满三十减五", "en": "x" * 61}], "promotions.0.en: String should have at most 60 characters"),
        ([{"zh": "满三十减五"}], "promotions.0.en: Field required"),
        (
            [{"zh": "满三十减五", "en": "5 off"}] * 11,
            "promotions: List should have at most 10 items after validation, not 11",
        ),
        ([], "promotions: List should have at least 1 item after validation, not 0"),
    ],
)
def test_a_bad_promotions_file_is_refused_in_both_languages_and_nothing_is_published(
    tmp_path: Path, promotions: list[dict[str, str]], problem: str
) -> None:
    hub_url = f"sqlite:///{tmp_path / 'hub.db'}"
    path = tmp_path / "promos.json"
    path.write_text(json.dumps(promotions, ensure_ascii=False), encoding="utf-8")
    args = ["config", "publish", "--db", hub_url, "--device", "KP", "--promotions", str(path)]
    result = CliRunner().invoke(hub_main, args)
    assert result.exit_code == 1
    assert result.output == (
        f"Error: 促销文件无效（每条需有 zh 和 en，1–60 字，最多 10 条）/ invalid promotions file {path} "
        f"(each needs zh and en, 1-60 characters, at most 10): {problem}\n"
    )
    open_hub_database(hub_url)
    assert hub_catalog.latest_release() is None


def test_a_release_with_a_too_long_promotion_is_refused_whole(kiosk_db) -> None:  # type: ignore[no-untyped-def]
    payload = json.dumps(
        {
            "v": 1,
            "version": 1,
            "issued_at": "2026-11-24T09:00:00+08:00",
            "catalog": [TEA],
            "settings": {"promotions": [{"zh": "长" * 61, "en": "Long"}]},
        }
    ).encode()
    with pytest.raises(
        config.SchemaError, match=r"^promotions\.0\.zh: String should have at most 60 characters$"
    ):
        config.parse_release(payload)
    assert config.running_version() == 0 and config.applied_promotions() == []
