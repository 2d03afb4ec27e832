"""Dashboard strings in zh-CN (default) and English, from the gettext catalogs in ``hub/locale``.

One catalog for every hub page, template and owner-facing text (quarantine and
reconciliation explanations, the rules in words). The msgids are stable keys, as
on the kiosk (docs/development.md, Translations): ``t("nav_members", lang)`` in
Python, ``{{ _('nav_members') }}`` in a template, ``N_("key")`` where a key is
written as data before it is shown.
"""

from pathlib import Path

from kiosk.translations import N_, Catalog

__all__ = ["CATALOG", "N_", "known", "nt", "t"]

CATALOG = Catalog("hub", Path(__file__).resolve().parents[1] / "locale")


def t(key: str, lang: str, **values: object) -> str:
    """The text for ``key`` in ``lang`` (Chinese unless ``en``), with ``values`` filled in when given."""
    text = CATALOG.text(key, lang)
    return text.format(**values) if values else text


def nt(key: str, plural_key: str, n: int, lang: str, **values: object) -> str:
    """The text for ``key`` in the plural form the count ``n`` takes in ``lang`` (``{n}`` filled in)."""
    return CATALOG.plural(key, plural_key, n, lang).format(n=n, **values)


def known(key: str) -> bool:
    """Whether ``key`` is one of the hub's messages."""
    return CATALOG.has(key)
