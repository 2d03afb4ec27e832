"""The gettext catalogs of one domain (``kiosk`` or ``hub``): one translations object per language.

The msgids are stable keys (``cart_title``), not English sentences: Chinese is the
product's first language, both ``zh_CN`` and ``en`` catalogs are filled, and the
screens switch language with one tap by asking for another language's object.
The ``.po`` files are the source; the ``.mo`` files next to them are compiled at
install time (``scripts/bootstrap.sh``, ``python -m kiosk.devtools.catalogs compile``).
"""

import gettext
from pathlib import Path

#: The app's language codes and the catalog each one reads; anything else reads Chinese.
LOCALES = {"zh": "zh_CN", "en": "en"}


class CatalogMissing(RuntimeError):
    """A compiled catalog (``.mo``) is not there: the install step that compiles it did not run."""


class Catalog:
    """The messages of one gettext domain in every language, loaded once per language."""

    def __init__(self, domain: str, localedir: Path) -> None:
        self.domain = domain
        self.localedir = localedir
        self._loaded: dict[str, gettext.GNUTranslations] = {}

    def translations(self, lang: str) -> gettext.GNUTranslations:
        """The translations object for ``lang`` (``zh`` unless ``en``)."""
        locale = LOCALES.get(lang, LOCALES["zh"])
        if locale not in self._loaded:
            self._loaded[locale] = self._load(locale)
        return self._loaded[locale]

    def _load(self, locale: str) -> gettext.GNUTranslations:
        path = self.localedir / locale / "LC_MESSAGES" / f"{self.domain}.mo"
        try:
            with path.open("rb") as mo:
                return gettext.GNUTranslations(mo)
        except FileNotFoundError:
            raise CatalogMissing(
                f"翻译目录未编译：{path}。请运行 scripts/bootstrap.sh"
                "（或 python -m kiosk.devtools.catalogs compile）。\n"
                f"The translation catalog {path} is not compiled: run scripts/bootstrap.sh "
                "(or python -m kiosk.devtools.catalogs compile)."
            ) from None

    def has(self, key: str, lang: str = "zh") -> bool:
        """Whether ``key`` is a message of this domain."""
        catalog = self.translations(lang)._catalog  # type: ignore[attr-defined]
        return key in catalog or (key, 0) in catalog  # a plural message is stored by (key, form)

    def text(self, key: str, lang: str) -> str:
        """The message ``key`` in ``lang``; a key no catalog holds is a KeyError, never shown as is."""
        translations = self.translations(lang)
        text = translations._catalog.get(key)  # type: ignore[attr-defined]
        if text is None:
            raise KeyError(f"{self.domain}: no message {key!r} in {translations.info().get('language')}")
        return text

    def plural(self, key: str, plural_key: str, n: int, lang: str) -> str:
        """The form of message ``key`` for the count ``n`` in ``lang`` (the catalog's Plural-Forms)."""
        if not self.has(key, lang):
            raise KeyError(f"{self.domain}: no message {key!r}")
        return self.translations(lang).ngettext(key, plural_key, n)


def N_(key: str) -> str:
    """Mark ``key`` as a message translated where it is shown; returns it unchanged."""
    return key
