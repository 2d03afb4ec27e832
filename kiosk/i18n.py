"""Kiosk strings in zh-CN (default) and English, from the gettext catalogs in ``kiosk/locale``.

The msgids are stable keys: the screens bind to ``app.tr(key, app.lang)`` so a
language switch re-renders every label with the other language's translations
object. A key passed around as data before it is shown is marked ``N_("key")``
where it is written, so that ``python -m kiosk.devtools.catalogs update`` finds
it (docs/development.md, Translations).
"""

from collections.abc import Callable
from pathlib import Path

from kiosk.translations import N_, Catalog

__all__ = [
    "CATALOG",
    "N_",
    "Key",
    "bilingual",
    "fold",
    "known",
    "localise",
    "ntr",
    "payment_method_name",
    "tr",
]

CATALOG = Catalog("kiosk", Path(__file__).parent / "locale")

NBSP = "\u00a0"

#: Chinese punctuation a line may end with but never start with (避头点).
CLOSING_PUNCTUATION = "，。、；：！？）》”’"


#: The payment methods as people read them (receipts, refunds, the hub's e-receipt): ``method_{code}``.
_METHOD_KEYS = {
    "cash": N_("method_cash"),
    "wechat": N_("method_wechat"),
    "alipay": N_("method_alipay"),
    "mobile": N_("method_mobile"),
    "stored_value": N_("method_stored_value"),
    "points": N_("method_points"),
    "count_card": N_("method_count_card"),
}


def payment_method_name(method: str, lang: str) -> str:
    """``method``'s name in ``lang`` ("zh" or "en"); an unknown method shows as its code."""
    key = _METHOD_KEYS.get(method)
    return tr(key, lang) if key else method


class Key(str):
    """A value that is itself a string-table key (a wallet's name): translated when shown."""


def localise(values: dict[str, object], lang: str) -> dict[str, object]:
    """``values`` for ``lang``: a per-language dict becomes its ``lang`` text, a :class:`Key` its text."""
    shown: dict[str, object] = {}
    for name, value in values.items():
        if isinstance(value, dict):
            value = value.get(lang) or value.get("zh", "")
        elif isinstance(value, Key):
            value = tr(value, lang)
        shown[name] = value
    return shown


def fold(text: str, fits: Callable[[str], bool]) -> str:
    """Chinese ``text`` broken into lines that ``fits`` accepts; a closing mark never starts a line.

    Kivy wraps only at spaces, and Chinese has none (its spaces are no-break ones here), so
    Kivy cuts a long sentence wherever the line is full and a "。" or "，" can start the next
    line. Here the line breaks one character earlier instead, taking that character along
    with the mark (避头点). ``fits`` measures a line in the label's font.
    """
    return "\n".join(line for paragraph in text.split("\n") for line in _fold_paragraph(paragraph, fits))


ORPHAN = 2  # a last line this short (a lone "器" or "重。") is folded again with even lines


def _fold_paragraph(paragraph: str, fits: Callable[[str], bool]) -> list[str]:
    lines = _greedy(paragraph, fits)
    if len(lines) < 2 or len(lines[-1]) > ORPHAN:
        return lines
    # the same number of lines, each about as long: 商品编号不在商 / 品库中。请找店 / 员重新称重。
    # rather than 商品编号不在商品库 / 中。请找店员重新称 / 重。
    per_line = -(-len(paragraph) // len(lines))
    even = _greedy(paragraph, lambda line: len(line) <= per_line and fits(line))
    return even if len(even) == len(lines) else lines


def _greedy(paragraph: str, fits: Callable[[str], bool]) -> list[str]:
    lines = []
    line = ""
    for char in paragraph:
        if not line or fits(line + char):
            line += char
        elif char in CLOSING_PUNCTUATION and len(line) > 1:
            lines.append(line[:-1])
            line = line[-1] + char
        else:
            lines.append(line)
            line = char
    lines.append(line)
    return lines


def tr(key: str, lang: str, **values: object) -> str:
    """The text for ``key`` in ``lang`` with ``values`` filled in; Chinese by default."""
    return _shown(CATALOG.text(key, lang).format(**values), lang)


def bilingual(key: str, **values: object) -> dict[str, str]:
    """``key`` in Chinese and in English, as the ``{"zh": ..., "en": ...}`` texts screens carry.

    A value may itself be a ``{"zh": ..., "en": ...}`` text: each language takes its own.
    """
    return {lang: CATALOG.text(key, lang).format(**localise(values, lang)) for lang in ("zh", "en")}


def ntr(key: str, plural_key: str, n: int, lang: str, **values: object) -> str:
    """The text for ``key`` in the plural form the count ``n`` takes in ``lang`` (``{n}`` filled in)."""
    return _shown(CATALOG.plural(key, plural_key, n, lang).format(n=n, **values), lang)


def known(key: str) -> bool:
    """Whether ``key`` is one of the kiosk's messages."""
    return CATALOG.has(key)


def _shown(text: str, lang: str) -> str:
    # Kivy wraps only at spaces: in Chinese a space inside a sentence (around a product name
    # or an amount) would break the line there, so Chinese keeps its spaces unbreakable.
    return text.replace(" ", NBSP) if lang != "en" else text
