"""The translation catalogs: complete in both languages, in step with the code, read at runtime."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.web import i18n as hub_i18n
from kiosk import i18n
from kiosk.devtools import catalogs
from kiosk.translations import Catalog, CatalogMissing


@pytest.mark.parametrize("domain", sorted(catalogs.DOMAINS))
def test_every_message_is_translated_in_both_languages_and_no_catalog_is_stale(domain: str) -> None:
    # extracts the keys the code uses again and compares them with both .po files
    assert catalogs.problems(domain) == []


def test_a_key_the_code_uses_that_no_catalog_holds_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "shop"
    (package / "screens").mkdir(parents=True)
    (package / "cart.py").write_text('tr("cart_title", lang)\nN_("gone_soon")\n')
    (package / "screens" / "cart.kv").write_text('    text: app.tr("pay" if ready else "wait", app.lang)\n')
    monkeypatch.setitem(catalogs.DOMAINS, "shop", package)
    for lang, title in (("zh_CN", "购物车"), ("en", "")):
        po = catalogs.po_path("shop", lang)
        po.parent.mkdir(parents=True)
        po.write_text(
            f'msgid "cart_title"\nmsgstr "{title}"\n\nmsgid "gone_soon"\nmsgstr "x"\n\n'
            'msgid "pay"\nmsgstr "{amount}"\n\nmsgid "unused"\nmsgstr "y"\n',
            encoding="utf-8",
        )
    assert catalogs.problems("shop") == [
        "shop en: 'cart_title' has no translation",
        "shop en: 'unused' is in the catalog but no code uses it",
        "shop en: 'wait' is used but not in the catalog (run update)",
        "shop zh_CN: 'unused' is in the catalog but no code uses it",
        "shop zh_CN: 'wait' is used but not in the catalog (run update)",
    ]


def test_update_adds_new_keys_empty_to_both_catalogs_and_drops_unused_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "shop"
    package.mkdir()
    (package / "cart.py").write_text('tr("cart_title", lang)\ntr("cart_empty", lang)\n')
    monkeypatch.setitem(catalogs.DOMAINS, "shop", package)
    for lang in catalogs.LANGUAGES:
        po = catalogs.po_path("shop", lang)
        po.parent.mkdir(parents=True)
        po.write_text('msgid "cart_title"\nmsgstr "购物车"\n\nmsgid "old"\nmsgstr "旧"\n', encoding="utf-8")
    assert catalogs.update("shop") == ["zh_CN: 'cart_empty'", "en: 'cart_empty'"]
    held = {m.id: m.string for m in catalogs.read("shop", "en") if m.id}
    # no fuzzy matching: cart_empty must not borrow cart_title's text
    assert held == {"cart_empty": "", "cart_title": "购物车"}


def test_the_kiosk_switches_language_by_asking_another_translations_object() -> None:
    assert i18n.tr("cart_title", "zh") == "购物车"
    assert i18n.tr("cart_title", "en") == "Your cart"
    assert i18n.tr("cart_title", "fr") == "购物车"  # an unknown language reads Chinese
    assert i18n.tr("removed", "zh", name="牛奶 1L") == "已删除：牛奶\u00a01L"  # Chinese spaces do not break
    assert i18n.tr("removed", "en", name="Milk 1L") == "Removed: Milk 1L"


def test_counted_messages_take_each_languages_plural_forms() -> None:
    # the cart's counter: "1 item", "3 items"; Chinese has one form: "1 件", "3 件"
    assert [i18n.ntr("cart_items", "cart_items_plural", n, "en") for n in (0, 1, 3)] == [
        "items",
        "item",
        "items",
    ]
    assert [i18n.ntr("cart_items", "cart_items_plural", n, "zh") for n in (0, 1, 3)] == ["件", "件", "件"]


def test_the_hub_reads_its_own_catalog() -> None:
    assert hub_i18n.t("nav_members", "zh") == "会员"
    assert hub_i18n.t("nav_members", "en") == "Members"
    assert hub_i18n.t("my_data_bad_link", "en", reason="R1").startswith(
        "This link is not valid or has expired (R1)."
    )
    assert hub_i18n.known("printer_paper_out") and not hub_i18n.known("printer_on_fire")


def test_a_key_no_catalog_holds_is_an_error_not_shown_as_is() -> None:
    with pytest.raises(KeyError, match="no_such_key"):
        i18n.tr("no_such_key", "en")


def test_a_catalog_not_compiled_says_which_step_to_run_in_both_languages(tmp_path: Path) -> None:
    with pytest.raises(CatalogMissing) as refused:
        Catalog("kiosk", tmp_path).text("cart_title", "en")
    assert str(refused.value) == (
        f"翻译目录未编译：{tmp_path}/en/LC_MESSAGES/kiosk.mo。请运行 scripts/bootstrap.sh"
        "（或 python -m kiosk.devtools.catalogs compile）。\n"
        f"The translation catalog {tmp_path}/en/LC_MESSAGES/kiosk.mo is not compiled: "
        "run scripts/bootstrap.sh (or python -m kiosk.devtools.catalogs compile)."
    )


#: Chinese and English that stay in code on purpose: the privacy consent a member agrees to is kept
#: word for word under its version (a catalog edit must not change what was agreed to), and the demo
#: shop's products and categories are data, like the owner's own catalog.
KEPT_IN_CODE = {"kiosk/domain/loyalty/registration.py", "kiosk/store/demo_catalog.py"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(str(part.value) for part in node.values if isinstance(part, ast.Constant))
    return None


def _string_tables(tree: ast.AST) -> Iterator[int]:
    """Lines of ``{"zh": "中文", "en": "English"}`` literals and of ``("中文", "English")`` dict values."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Dict):
            continue
        keys = [k.value if isinstance(k, ast.Constant) else None for k in node.keys]
        if sorted(map(str, keys)) == ["en", "zh"]:
            texts = dict(zip(keys, map(_text, node.values), strict=True))
            if CJK.search(texts["zh"] or "") and texts["en"] is not None:
                yield node.lineno
        for value in node.values:
            if isinstance(value, ast.Tuple) and len(value.elts) == 2:
                zh, en = (_text(e) or "" for e in value.elts)
                if CJK.search(zh) and en and not CJK.search(en):
                    yield value.lineno


def test_no_module_keeps_its_own_table_of_chinese_and_english_strings() -> None:
    root = Path(__file__).resolve().parents[1]
    found = [
        f"{path.relative_to(root)}:{line}"
        for package in ("kiosk", "hub")
        for path in sorted((root / package).rglob("*.py"))
        if str(path.relative_to(root)) not in KEPT_IN_CODE
        for line in _string_tables(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert found == []  # put the strings in the catalogs: docs/development.md, Translations
