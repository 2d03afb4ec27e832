"""Every dashboard module's strings reach the shared table unchanged: no key is taken twice."""

import importlib
import pkgutil
from pathlib import Path

import hub.web.app  # imports every page module
from hub.web import i18n


def test_no_module_loses_a_string_to_another_with_the_same_key() -> None:
    clashes = []
    for info in pkgutil.iter_modules(hub.__path__):
        module = importlib.import_module(f"hub.{info.name}")
        table = getattr(module, "TEXT", None)
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        if not isinstance(table, dict) or module is i18n or "i18n.TEXT.update" not in source:
            continue  # a page with its own private table (the e-receipt, the member export)
        for key, text in table.items():
            if i18n.TEXT.get(key) != text:
                shared = i18n.TEXT.get(key)
                clashes.append(f"{info.name}: {key!r} is {shared!r} in the shared table, not {text!r}")
    assert clashes == []
