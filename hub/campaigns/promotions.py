"""The attract screen's promotions, as the owner publishes them in a config release.

``hub config publish --promotions FILE.json`` reads a JSON list of ``{"zh", "en"}``
texts, checked like the terminal checks them (:func:`kiosk.sync.config.parse_promotions`).
A release published without the option keeps the previous release's settings, so
the terminals never fall back to the built-in promotions by accident.
"""

import json
from pathlib import Path
from typing import Any

from kiosk.sync.config import ConfigRelease, parse_promotions
from kiosk.sync.schema import SchemaError


class PromotionFileError(ValueError):
    """The promotions file cannot be read or does not follow the schema; the text says why in zh and en."""


def load_promotions(path: Path) -> list[dict[str, str]]:
    """The promotions in ``path``, validated; raise PromotionFileError naming the problem."""
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PromotionFileError(f"促销文件无法读取 / cannot read promotions file {path}: {exc}") from exc
    try:
        return [p.model_dump() for p in parse_promotions(items)]
    except SchemaError as exc:
        raise PromotionFileError(
            f"促销文件无效（每条需有 zh 和 en，1–60 字，最多 10 条）/ "
            f"invalid promotions file {path} (each needs zh and en, 1-60 characters, at most 10): {exc}"
        ) from exc


def next_settings(previous: ConfigRelease | None, promotions: list[dict[str, str]] | None) -> dict[str, Any]:
    """The settings of the next release: the previous release's, with ``promotions`` when given."""
    settings = dict(previous.settings) if previous is not None else {}
    if promotions is not None:
        settings["promotions"] = promotions
    return settings
