"""Owner-defined attributes and tags: every value checked and normalised, bilingual refusals."""

import pytest
from pydantic import ValidationError

from kiosk.domain.loyalty.attributes import AttributeSpec, check_value, normalize_tag, split_tags
from kiosk.domain.loyalty.errors import InvalidAttribute

HEIGHT = AttributeSpec(code="height_cm", label_zh="身高", label_en="Height (cm)", type="number")
SKIN = AttributeSpec(code="skin", label_zh="肤质", type="choice", options=("干性", "油性", "混合"))
WEDDING = AttributeSpec(code="wedding", label_zh="结婚纪念日", type="date")
NOTE = AttributeSpec(code="note", label_zh="备注", type="text")


@pytest.mark.parametrize(
    ("spec", "raw", "stored"),
    [
        (HEIGHT, " 170 ", "170"),
        (HEIGHT, "62.50", "62.5"),
        (HEIGHT, "0170.0", "170"),
        (HEIGHT, "-0", "0"),
        (HEIGHT, "", ""),
        (SKIN, "油性", "油性"),
        (WEDDING, "2019-05-20", "2019-05-20"),
        (NOTE, "  喜欢无糖  ", "喜欢无糖"),
    ],
)
def test_values_are_normalised(spec: AttributeSpec, raw: str, stored: str) -> None:
    assert check_value(spec, raw) == stored


@pytest.mark.parametrize(
    ("spec", "raw", "message"),
    [
        (
            HEIGHT,
            "1e3",
            "身高 (height_cm): “1e3” is not a number like 170 or 62.5 / 请填写数字，如 170 或 62.5",
        ),
        (HEIGHT, "NaN", "is not a number"),
        (HEIGHT, "1,70", "is not a number"),
        (SKIN, "中性", "肤质 (skin): “中性” is not one of 干性 / 油性 / 混合 / 请从选项中选择"),
        (WEDDING, "2019/05/20", "“2019/05/20” is not a date like 1990-05-01 / 日期格式应为 1990-05-01"),
        (WEDDING, "2019-02-30", "is not a date"),
        (NOTE, "字" * 201, "备注 (note): at most 200 characters / 最多 200 个字"),
    ],
)
def test_bad_values_are_refused_with_the_fix(spec: AttributeSpec, raw: str, message: str) -> None:
    with pytest.raises(InvalidAttribute) as caught:
        check_value(spec, raw)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"code": "Skin", "type": "text"},
            "use a-z, 0-9 and _, starting with a letter, e.g. shoe_size / 代码只能用小写",
        ),
        ({"code": "skin", "type": "choice"}, "a choice needs distinct options / 选项不能为空或重复"),
        ({"code": "skin", "type": "choice", "options": ["a", "a"]}, "选项不能为空或重复"),
        (
            {"code": "skin", "type": "text", "options": ["a"]},
            "only a choice has options / 只有选项类属性可以设置选项",
        ),
        ({"code": "skin", "type": "colour"}, "Input should be 'text', 'number', 'date' or 'choice'"),
    ],
)
def test_bad_definitions_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AttributeSpec.model_validate({"label_zh": "属性", **fields})


def test_tags_are_trimmed_deduplicated_and_checked() -> None:
    assert split_tags(" VIP ，宝妈| VIP ,, 团购  客户 ") == ["VIP", "宝妈", "团购 客户"]
    assert split_tags("") == []
    assert normalize_tag("  新  客 ") == "新 客"
    with pytest.raises(InvalidAttribute, match="标签最多 20 个字"):
        normalize_tag("长" * 21)
    with pytest.raises(InvalidAttribute, match=r"contains a separator .* / 标签不能包含逗号、分号或竖线"):
        normalize_tag("a;b")
