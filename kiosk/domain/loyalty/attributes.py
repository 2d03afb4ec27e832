"""Owner-defined member attributes (自定义属性) and tags (标签): definitions and validation.

The owner defines attributes of four types (text, number, date, choice); every
value is checked and normalised before it is stored, so the database only ever
holds values a report can rely on. Values are kept as text: numbers in plain
decimal (no float), dates as ``YYYY-MM-DD``. An empty value means "not set".
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kiosk.domain.loyalty.errors import InvalidAttribute

TEXT_MAX = 200
TAG_MAX = 20
_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_TAG_FORBIDDEN = re.compile(r"[,;|，；\n\r\t]")


class AttributeSpec(BaseModel):
    """One attribute the owner defined, e.g. 肤质 (choice: 干性/油性/混合) or 身高 (number)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(description="column name: a-z, 0-9, _, starting with a letter; at most 32")
    label_zh: str = Field(min_length=1, max_length=20)
    label_en: str = Field(default="", max_length=40)
    type: Literal["text", "number", "date", "choice"]
    options: tuple[str, ...] = Field(default=(), description="the allowed values of a choice")

    @field_validator("code")
    @classmethod
    def _code(cls, code: str) -> str:
        if not _CODE.fullmatch(code):
            raise ValueError(
                "use a-z, 0-9 and _, starting with a letter, e.g. shoe_size "
                "/ 代码只能用小写字母、数字和下划线，以字母开头"
            )
        return code

    @model_validator(mode="after")
    def _options(self) -> "AttributeSpec":
        if self.type == "choice" and (not self.options or len(set(self.options)) != len(self.options)):
            raise ValueError("a choice needs distinct options / 选项不能为空或重复")
        if self.type != "choice" and self.options:
            raise ValueError("only a choice has options / 只有选项类属性可以设置选项")
        if any(not o.strip() or len(o) > TEXT_MAX for o in self.options):
            raise ValueError("options must be non-empty text / 选项不能为空")
        return self


def check_value(spec: AttributeSpec, raw: str) -> str:
    """``raw`` as stored for ``spec``: normalised, or InvalidAttribute naming the attribute and the fix."""
    text = raw.strip()
    if not text:
        return ""
    label = f"{spec.label_zh} ({spec.code})"
    if spec.type == "text":
        if len(text) > TEXT_MAX:
            raise InvalidAttribute(f"{label}: at most {TEXT_MAX} characters / 最多 {TEXT_MAX} 个字")
        return text
    if spec.type == "number":
        return _number(text, label)
    if spec.type == "date":
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            raise InvalidAttribute(
                f"{label}: “{text}” is not a date like 1990-05-01 / 日期格式应为 1990-05-01"
            ) from None
    if text not in spec.options:
        choices = " / ".join(spec.options)
        raise InvalidAttribute(f"{label}: “{text}” is not one of {choices} / 请从选项中选择")
    return text


def _number(text: str, label: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or not re.fullmatch(r"-?\d+(\.\d+)?", text):
        raise InvalidAttribute(
            f"{label}: “{text}” is not a number like 170 or 62.5 / 请填写数字，如 170 或 62.5"
        )
    normal = format(value.normalize(), "f")
    return "0" if normal in ("-0", "") else normal


def normalize_tag(raw: str) -> str:
    """A tag as stored: trimmed, spaces folded; InvalidAttribute when empty, too long or with separators."""
    tag = " ".join(raw.split())
    if not tag:
        raise InvalidAttribute("a tag cannot be empty / 标签不能为空")
    if len(tag) > TAG_MAX:
        raise InvalidAttribute(f"tag “{tag}” is longer than {TAG_MAX} characters / 标签最多 {TAG_MAX} 个字")
    if _TAG_FORBIDDEN.search(tag):
        raise InvalidAttribute(f"tag “{tag}” contains a separator (, ; |) / 标签不能包含逗号、分号或竖线")
    return tag


def split_tags(text: str) -> list[str]:
    """Tags typed in one field or CSV cell, split on commas (also ，) or ``|``; normalised, deduplicated."""
    parts = re.split(r"[,，|]", text)
    tags: list[str] = []
    for part in parts:
        if part.strip():
            tag = normalize_tag(part)
            if tag not in tags:
                tags.append(tag)
    return tags
