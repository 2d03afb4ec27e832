"""The translation catalogs' upkeep with Babel: extract, update, compile, check.

``python -m kiosk.devtools.catalogs update`` extracts the message keys the code
uses (``tr("key", lang)``, ``t("key", lang)``, ``_("key")``, ``N_("key")``,
``bilingual("key")``, ``ntr("key", "key_plural", n, lang)``, in Python, ``.kv`` and the dashboard's
templates) and adds the new ones, empty, to the ``zh_CN`` and ``en`` catalogs of
their domain; ``compile`` writes the ``.mo`` files the apps read; ``check`` lists
what is missing or stale (the test in ``tests/test_catalogs.py`` runs it). One
module holds the flags so that the developer's update, the install step's
compile and the test's check cannot disagree. Not part of the running product:
Babel is a development dependency; the apps read the ``.mo`` files with the
standard library's :mod:`gettext`.
"""

import io
import os
import re
import string
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[2]
#: A domain's name and the package its messages are extracted from (catalogs in ``<package>/locale``).
DOMAINS = {"kiosk": ROOT / "kiosk", "hub": ROOT / "hub"}
LANGUAGES = ("zh_CN", "en")
KEYWORDS: dict[str, Any] = {
    **DEFAULT_KEYWORDS,
    "tr": None,
    "t": None,
    "bilingual": None,
    "ntr": (1, 2),
    "nt": (1, 2),
}
METHODS = [
    ("**/locale/**", "ignore"),
    ("**.py", "python"),
    ("**.kv", "kiosk.devtools.catalogs:extract_kv"),
    ("**/templates/**.html", "jinja2"),
]
#: A translator's comment (``# fields differ: why``) over a message whose languages fill different
#: values on purpose (Chinese counts a discount in 折, English in percent off).
FIELDS_DIFFER = "fields differ:"
_KV_CALL = re.compile(r"""\b(?:tr|text_for)\((.*)""")
_KV_PLURAL = re.compile(r"""\bntr\(\s*(['"])(\w+)\1\s*,\s*(['"])(\w+)\3""")
#: A key-shaped literal in a kv expression, not a dict's key: ``"m_name_title"`` in ``{"typed": ...}``.
_KV_KEY = re.compile(r"""(['"])([a-z][a-z0-9_]*)\1(?!\s*:)""")


def extract_kv(
    fileobj: IO[bytes], keywords: object, comment_tags: object, options: object
) -> Iterator[tuple[int, str, str | tuple[str, str], list[str]]]:
    """Babel extractor for Kivy ``.kv`` files: the keys in ``app.tr(...)`` expressions.

    A kv rule is one Python expression, often choosing its key there:
    ``app.tr("items_one" if app.item_count == 1 else "items", app.lang)``; every
    key-shaped literal after ``tr(`` counts, except the language argument;
    ``app.ntr("key", "key_plural", n, app.lang)`` is a message with plural forms.
    """
    for lineno, line in enumerate(fileobj.read().decode("utf-8").splitlines(), start=1):
        for plural in _KV_PLURAL.finditer(line):
            yield lineno, "ntr", (plural.group(2), plural.group(4)), []
        call = _KV_CALL.search(line)
        expression = call.group(1) if call else ""
        for match in _KV_KEY.finditer(expression):
            # a literal compared with (root.step == "surname") or indexing (sale["member"]) is no key
            before = expression[: match.start()].rstrip()
            if match.group(2) not in ("zh", "en") and not before.endswith(("==", "!=", "[", " in", "get(")):
                yield lineno, "tr", match.group(2), []


def localedir(domain: str) -> Path:
    """Where ``domain``'s catalogs live."""
    return DOMAINS[domain] / "locale"


def po_path(domain: str, lang: str) -> Path:
    """The ``.po`` file of ``domain`` in ``lang``."""
    return localedir(domain) / lang / "LC_MESSAGES" / f"{domain}.po"


def extract(domain: str) -> Catalog:
    """The messages the code of ``domain`` uses now, as a template catalog (a ``.pot``)."""
    template = Catalog(domain=domain, project="Member Kiosk", fuzzy=False)
    for _file, _lineno, message, comments, context in extract_from_dir(
        DOMAINS[domain], METHODS, keywords=KEYWORDS
    ):
        template.add(message, None, auto_comments=comments, context=context)
    return template


def read(domain: str, lang: str) -> Catalog:
    """The ``.po`` catalog of ``domain`` in ``lang``."""
    with po_path(domain, lang).open("rb") as po:
        return read_po(po, locale=lang, domain=domain)


def write(catalog: Catalog, domain: str, lang: str) -> None:
    """Write ``catalog`` as the ``.po`` of ``domain`` in ``lang``: sorted, without locations.

    Sorted by key and without source line numbers, so adding a string is a few lines
    of diff and two engineers adding strings at once rarely conflict.
    """
    path = po_path(domain, lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=0, no_location=True, sort_output=True, ignore_obsolete=True)
    path.write_bytes(buffer.getvalue())


def update(domain: str) -> list[str]:
    """Bring both catalogs of ``domain`` in line with the code: new keys empty, unused keys gone."""
    template = extract(domain)
    added = []
    for lang in LANGUAGES:
        catalog = read(domain, lang)
        before = {m.id for m in catalog if m.id}
        # no fuzzy matching: a new key must never inherit a neighbouring key's text
        catalog.update(template, no_fuzzy_matching=True, update_creation_date=False)
        added += [f"{lang}: {m.id!r}" for m in catalog if m.id and m.id not in before]
        write(catalog, domain, lang)
    return added


def compile_catalogs(domain: str) -> list[Path]:
    """Write the ``.mo`` of ``domain`` in each language when its ``.po`` is newer; the paths written."""
    written = []
    for lang in LANGUAGES:
        po = po_path(domain, lang)
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        buffer = io.BytesIO()
        write_mo(buffer, read(domain, lang))
        # whole or not at all: test workers (pytest-xdist) compile at once and read while others write
        partial = mo.with_name(f"{mo.name}.{os.getpid()}")
        partial.write_bytes(buffer.getvalue())
        os.replace(partial, mo)
        written.append(mo)
    return written


def problems(domain: str) -> list[str]:
    """What is wrong with ``domain``'s catalogs: stale, untranslated, fuzzy, placeholders that differ."""
    used = {_key(m.id) for m in extract(domain) if m.id}
    found = []
    texts: dict[str, dict[str, list[str]]] = {}
    exempt: set[str] = set()
    for lang in LANGUAGES:
        catalog = read(domain, lang)
        held = {_key(m.id) for m in catalog if m.id}
        found += [f"{domain} {lang}: {k!r} is used but not in the catalog (run update)" for k in used - held]
        found += [f"{domain} {lang}: {k!r} is in the catalog but no code uses it" for k in held - used]
        for message in catalog:
            if not message.id:
                continue
            text = message.string
            strings = [str(s or "") for s in text] if isinstance(text, tuple | list) else [text or ""]
            if not all(strings):
                found.append(f"{domain} {lang}: {_key(message.id)!r} has no translation")
            if message.fuzzy:
                found.append(f"{domain} {lang}: {_key(message.id)!r} is marked fuzzy")
            if any(FIELDS_DIFFER in comment for comment in message.user_comments):
                exempt.add(_key(message.id))
            texts.setdefault(_key(message.id), {})[lang] = strings
    for key, by_lang in sorted(texts.items()):
        if key in exempt:
            continue
        names = {lang: {_fields(s) for s in strings} for lang, strings in by_lang.items()}
        if len({frozenset().union(*fields) for fields in names.values()}) > 1:
            found.append(f"{domain}: {key!r} fills different values per language: {names}")
    return sorted(found)


def _key(msgid: object) -> str:
    """A message's key: its msgid, or the singular one of a message with plural forms."""
    return str(msgid[0]) if isinstance(msgid, tuple | list) else str(msgid)


def _fields(text: str) -> frozenset[str]:
    """The ``{name}`` fields ``str.format`` fills in ``text``."""
    try:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)
    except ValueError:
        return frozenset({"<unbalanced braces>"})


def main(argv: list[str]) -> int:
    """``update`` | ``compile`` | ``check``, for every domain."""
    command = argv[0] if argv else ""
    if command not in ("update", "compile", "check"):
        print("usage: python -m kiosk.devtools.catalogs update|compile|check", file=sys.stderr)
        return 2
    failed = False
    for domain in DOMAINS:
        if command == "update":
            for line in update(domain):
                print(f"new, to translate: {domain} {line}")
        if command in ("update", "compile"):
            compile_catalogs(domain)
        if command == "check":
            for line in problems(domain):
                print(line)
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
