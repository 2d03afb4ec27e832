"""kiosk.toml: typed, strict, and errors that name the line and the fix."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import get_args

import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from kiosk.config import (
    CONFIG_FORMAT,
    DEFAULT_DATA_PATH,
    ConfigError,
    KioskConfig,
    dump_config,
    load_config,
    parse_config,
)
from kiosk.config_cli import config as config_group

KEY = base64.b64encode(bytes(range(32))).decode()

GOOD = f"""\
[store]
id = "s-001"
name = "一号店"
timezone = "Asia/Shanghai"

[device]
id = "d-7f3a"
name = "Front till"

[broker]
host = "hub.local"
port = 8883
username = "d-7f3a"
password = "0123456789abcdef0123"

[data]
encryption_key = "{KEY}"

[hardware]
scanner = "/dev/input/by-id/usb-Honeywell-event-kbd"
card_reader = "ffff:0035"
printer = "usb:0416:5011"
paper_width = 384
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_loads_with_defaults_filled_in(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.store.name == "一号店"
    assert cfg.device.effective_hostname == "kiosk-d-7f3a"
    assert cfg.broker.port == 8883
    assert cfg.data.path == DEFAULT_DATA_PATH
    assert cfg.data.key_bytes() == bytes(range(32))
    assert cfg.hardware.paper_width == 384
    assert cfg.limits.offline_points_per_member == 2000
    assert cfg.wifi is None


def test_misspelled_table_names_line_and_suggestion(tmp_path: Path) -> None:
    text = GOOD.replace("[broker]", "[brokr]")
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    problems = {p.key: p for p in info.value.problems}
    assert problems["brokr"].line == 10
    assert problems["brokr"].en == "unknown key; did you mean `broker`?"
    assert problems["brokr"].zh == "未知的键；是不是想写 `broker`？"
    assert problems["broker"].en.startswith("required but missing")
    assert f"{tmp_path / 'kiosk.toml'}:10: `brokr`: unknown key; did you mean `broker`?" in str(info.value)


def test_misspelled_key_inside_table_points_at_its_line() -> None:
    text = GOOD.replace('host = "hub.local"', 'hots = "hub.local"')
    with pytest.raises(ConfigError) as info:
        parse_config(text, "t.toml")
    by_key = {p.key: p for p in info.value.problems}
    assert by_key["broker.hots"].line == 11
    assert by_key["broker.hots"].en == "unknown key; did you mean `host`?"
    assert by_key["broker.host"].line == 10  # missing: points at the [broker] header
    assert by_key["broker.host"].zh == "缺少必填项；请在 [broker] 下添加 `host = ...`"


def test_unknown_key_with_no_close_match_lists_valid_keys() -> None:
    text = GOOD.replace("paper_width = 384", "paper_width = 384\nzzz = 1")
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    (problem,) = info.value.problems
    assert problem.line == 24
    assert problem.en == ("unknown key; valid keys: scanner, card_reader, printer, paper_width, cash_drawer")


@pytest.mark.parametrize(
    ("old", "new", "key", "line", "fragment"),
    [
        ("paper_width = 384", "paper_width = 400", "hardware.paper_width", 23, "384 or 576"),
        ('printer = "usb:0416:5011"', 'printer = "lpt1"', "hardware.printer", 22, "usb:VID:PID"),
        (
            'timezone = "Asia/Shanghai"',
            'timezone = "Asia/Beijing"',
            "store.timezone",
            4,
            "unknown time zone 'Asia/Beijing'",
        ),
        (
            f'encryption_key = "{KEY}"',
            'encryption_key = "c2hvcnQ="',
            "data.encryption_key",
            17,
            "must decode to 32 bytes, got 5",
        ),
        ("port = 8883", "port = 70000", "broker.port", 12, "less than or equal to 65535"),
        ('id = "d-7f3a"', 'id = "D 7F3A"', "device.id", 7, "should match pattern"),
    ],
)
def test_bad_values_are_located(old: str, new: str, key: str, line: int, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(GOOD.replace(old, new))
    problem = next(p for p in info.value.problems if p.key == key)
    assert problem.line == line
    assert fragment in problem.en
    assert problem.zh.startswith("取值无效：")


def test_username_must_equal_device_id() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(GOOD.replace('username = "d-7f3a"', 'username = "d-other"'))
    (problem,) = info.value.problems
    assert "must equal device.id 'd-7f3a'" in problem.en


def test_toml_syntax_error_names_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(GOOD.replace('name = "Front till"', "name = Front till"))
    (problem,) = info.value.problems
    assert problem.key == "(syntax)"
    assert problem.line == 8


def test_tls_ca_must_be_pem_or_path() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(GOOD + '\n[broker.tls]\nca = "not a cert"\n')
    (problem,) = info.value.problems
    assert (problem.key, problem.line) == ("broker.tls.ca", 26)
    assert problem.en == "must be PEM text (-----BEGIN ...) or an absolute path"


def test_tls_client_cert_needs_its_key() -> None:
    text = GOOD + '\n[broker.tls]\nca = "/etc/kiosk/ca.pem"\nclient_cert = "/etc/kiosk/c.pem"\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    (problem,) = info.value.problems
    assert (problem.key, problem.line) == ("broker.tls", 25)
    assert problem.en == "client_cert and client_key go together: give both or neither"


def test_missing_table_says_add_the_table() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(GOOD.replace("[data]", "[dta]"))
    by_key = {p.key: p for p in info.value.problems}
    assert by_key["data"].en == "required but missing; add a `[data]` table"
    assert by_key["data"].zh == "缺少必填项；请添加 `[data]` 表"
    assert by_key["data"].line is None


def test_dump_then_load_round_trips(tmp_path: Path) -> None:
    cfg = parse_config(GOOD)
    again = load_config(write(tmp_path, dump_config(cfg)))
    assert again == cfg


# Every key of kiosk.toml format 1. Adding a key or table? Raise CONFIG_FORMAT and pin the new set here:
# a terminal on older software skips the new keys of a newer hub's file only when its number is higher.
FORMAT_1_KEYS = {
    "store", "store.id", "store.name", "store.timezone", "store.currency", "store.logo",
    "device", "device.id", "device.name", "device.hostname", "device.receipt_key", "device.receipt_link_days",
    "broker", "broker.host", "broker.port", "broker.username", "broker.password", "broker.keepalive",
    "broker.hub_url", "broker.tls", "broker.tls.ca", "broker.tls.client_cert", "broker.tls.client_key",
    "data", "data.path", "data.encryption_key",
    "wifi", "wifi.ssid", "wifi.psk", "wifi.country", "wifi.hidden",
    "hardware", "hardware.scanner", "hardware.card_reader", "hardware.printer", "hardware.paper_width",
    "hardware.cash_drawer",
    "limits", "limits.offline_points_per_member", "limits.offline_stored_value_fen_per_member",
    "limits.offline_max_hours",
    "payments", "payments.gateway_url", "payments.timeout_s",
    "hw",
}  # fmt: skip


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    found = set()
    for name, field in model.model_fields.items():
        found.add(prefix + name)
        inner = next((a for a in (field.annotation, *get_args(field.annotation)) if _is_model(a)), None)
        if inner is not None:
            found |= _keys(inner, f"{prefix}{name}.")
    return found


def _is_model(annotation: object) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def test_every_key_of_this_format_is_pinned() -> None:
    assert (CONFIG_FORMAT, _keys(KioskConfig)) == (1, FORMAT_1_KEYS)


def test_the_hub_writes_this_versions_format_first() -> None:
    text = dump_config(parse_config(GOOD))
    assert text.split("\n\n")[1] == "format = 1"
    assert parse_config(text) == parse_config(GOOD)


NEWER = (
    "format = 2\n"
    + GOOD.replace('name = "Front till"', 'name = "Front till"\nsound = "soft"')
    + ("\n[loyalty]\nshow_points = true\n")
)


def test_keys_of_a_newer_hub_are_skipped_with_a_warning_in_both_languages(tmp_path: Path) -> None:
    path = write(tmp_path, NEWER)
    result = CliRunner().invoke(config_group, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    said = (
        "not known to this terminal's software, so ignored: the file is format 2, from a newer hub "
        "(this software reads format 1); update the terminal to use it\n"
        "    本终端软件不认识此项，已忽略：此文件为格式 2，来自较新的中心"
        "（本终端软件读取格式 1）；更新终端软件后生效"
    )
    assert result.output == (
        f"warning / 警告: {path}:10: `device.sound`: {said}\n"
        f"warning / 警告: {path}:27: `loyalty`: {said}\n"
        f"OK: {path} (store s-001, device d-7f3a) / 配置有效\n"
    )
    assert load_config(path).model_dump() == parse_config(GOOD).model_dump()


def test_a_newer_hubs_file_is_still_checked_value_by_value() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(NEWER.replace("port = 8883", "port = 0"))
    assert [(p.key, p.line) for p in err.value.problems] == [("broker.port", 14)]


@pytest.mark.parametrize("header", ["", "format = 1\n"])
def test_a_typo_in_a_file_of_this_format_or_a_hand_written_one_stays_an_error(header: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(header + GOOD.replace("port = 8883", "prot = 8883"))
    (problem,) = err.value.problems
    assert (problem.key, problem.en) == ("broker.prot", "unknown key; did you mean `port`?")


@pytest.mark.parametrize("value", ['"2"', "0", "true", "1.5"])
def test_format_must_be_a_whole_number_from_one(value: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(f"format = {value}\n" + GOOD)
    (problem,) = err.value.problems
    assert (problem.key, problem.line) == ("format", 1)
    assert problem.zh.startswith("必须是从 1 起的整数，由 `hub device add` 写入")


def test_demo_defaults_are_valid_and_round_trip() -> None:
    cfg = KioskConfig.demo(data_path="/tmp/demo.db")
    assert cfg.broker.username == "d-demo"
    assert len(cfg.data.key_bytes()) == 32
    assert parse_config(dump_config(cfg)) == cfg


def test_secrets_stay_out_of_repr() -> None:
    cfg = parse_config(GOOD)
    assert "0123456789abcdef0123" not in repr(cfg)
    assert KEY not in repr(cfg)


def test_cli_validate_ok_and_error_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(config_group, ["validate", str(write(tmp_path, GOOD))])
    assert good.exit_code == 0
    assert good.output == (f"OK: {tmp_path / 'kiosk.toml'} (store s-001, device d-7f3a) / 配置有效\n")
    bad = runner.invoke(config_group, ["validate", str(write(tmp_path, GOOD.replace("[data]", "[dta]")))])
    assert bad.exit_code == 1
    assert ":16: `dta`: unknown key; did you mean `data`?" in bad.output
    assert "中有 2 处问题" in bad.output


def test_cli_validate_missing_file_is_bilingual(tmp_path: Path) -> None:
    result = CliRunner().invoke(config_group, ["validate", str(tmp_path / "nope.toml")])
    assert result.exit_code == 1
    assert "cannot read the file" in result.output
    assert "无法读取该文件" in result.output


def test_a_png_logo_is_accepted(tmp_path: Path) -> None:
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (64, 64), (200, 30, 30)).save(logo)
    text = GOOD.replace('timezone = "Asia/Shanghai"', f'timezone = "Asia/Shanghai"\nlogo = "{logo}"')
    assert parse_config(text, "t.toml").store.logo == str(logo)
    assert parse_config(GOOD, "t.toml").store.logo is None


@pytest.mark.parametrize(
    ("make", "en", "zh"),
    [
        (
            None,
            "no file at {p}; copy the logo there or remove `logo` (the shop name is shown alone)",
            "{p} 不存在；请把标志图片放到这里，或删除 `logo`（现只显示店名）",
        ),
        (
            "dir",
            "cannot read {p}: Is a directory; check the file's permissions (the shop name is shown alone)",
            "无法读取 {p}：Is a directory；请检查文件权限（现只显示店名）",
        ),
        (
            "jpeg",
            "{p} is not a PNG image; save the logo as PNG (the shop name is shown alone)",
            "{p} 不是 PNG 图片；请把标志另存为 PNG（现只显示店名）",
        ),
    ],
)
def test_a_logo_that_cannot_be_shown_is_a_warning_in_both_languages_not_an_error(
    tmp_path: Path, make: str | None, en: str, zh: str
) -> None:
    from PIL import Image

    logo = tmp_path / "logo.png"
    if make == "jpeg":
        Image.new("RGB", (64, 64), (200, 30, 30)).save(logo, format="JPEG")  # a JPEG named .png
    elif make == "dir":
        logo.mkdir()  # unreadable as a file, even for root
    text = GOOD.replace('timezone = "Asia/Shanghai"', f'timezone = "Asia/Shanghai"\nlogo = "{logo}"')
    result = CliRunner().invoke(config_group, ["validate", str(write(tmp_path, text))])
    assert result.exit_code == 0, result.output
    where = f"{tmp_path / 'kiosk.toml'}:5: `store.logo`"
    warning = f"warning / 警告: {where}: {en.format(p=logo)}\n    {zh.format(p=logo)}"
    assert warning in result.output
    assert f"OK: {tmp_path / 'kiosk.toml'} (store s-001, device d-7f3a) / 配置有效" in result.output
    assert load_config(tmp_path / "kiosk.toml").store.logo == str(logo)  # loads: the terminal starts


def test_a_png_logo_gives_no_warning(tmp_path: Path) -> None:
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (64, 64), (200, 30, 30)).save(logo)
    text = GOOD.replace('timezone = "Asia/Shanghai"', f'timezone = "Asia/Shanghai"\nlogo = "{logo}"')
    result = CliRunner().invoke(config_group, ["validate", str(write(tmp_path, text))])
    assert (result.exit_code, "warning" in result.output) == (0, False)


def test_a_relative_logo_path_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(
            GOOD.replace('timezone = "Asia/Shanghai"', 'timezone = "Asia/Shanghai"\nlogo = "logo.png"')
        )
    (problem,) = info.value.problems
    assert (problem.key, problem.line, problem.zh) == (
        "store.logo",
        5,
        "必须是绝对路径，例如 /boot/firmware/logo.png（现在是 logo.png）",
    )


def test_payments_gateway_reaches_the_app_settings() -> None:
    from kiosk.cli import _provisioned_settings

    assert parse_config(GOOD).payments is None  # no gateway: cash and member payment only
    assert "gateway_timeout_s" not in _provisioned_settings(parse_config(GOOD))
    cfg = parse_config(GOOD + '\n[payments]\ngateway_url = "http://pay.shop.lan:8765"\ntimeout_s = 15\n')
    assert cfg.payments is not None
    assert (cfg.payments.gateway_url, cfg.payments.timeout_s) == ("http://pay.shop.lan:8765", 15.0)
    assert _provisioned_settings(cfg)["gateway_timeout_s"] == 15.0
    assert parse_config(dump_config(cfg)).payments == cfg.payments


@pytest.mark.parametrize("url", ["pay.shop.lan:8765", "ftp://pay.shop.lan", "http://pay shop", ""])
def test_a_gateway_url_that_is_not_http_is_refused_on_its_line(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(GOOD + f'\n[payments]\ngateway_url = "{url}"\n')
    problem = next(p for p in info.value.problems if p.key == "payments.gateway_url")
    assert problem.line == 26
    assert "should match pattern" in problem.en
    assert problem.zh.startswith("取值无效：")
