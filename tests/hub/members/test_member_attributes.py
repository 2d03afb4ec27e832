"""Owner-defined attributes and tags on the hub: validated on write, all or nothing, audited; API."""

from pathlib import Path

import pytest

from hub.accounts import audit as owner_audit
from hub.members import attributes as member_attributes
from hub.members.models import MemberAttribute
from hub.web.app import create_app
from kiosk.domain.loyalty.attributes import AttributeSpec
from tests.hub.campaigns.test_campaigns import three_members
from tests.hub.members.test_loyalty import NOW, TZ, ingest, on_terminal

HEIGHT = AttributeSpec(code="height_cm", label_zh="身高", label_en="Height (cm)", type="number")
SKIN = AttributeSpec(
    code="skin", label_zh="肤质", label_en="Skin", type="choice", options=("干性", "油性", "混合")
)


def define_both() -> None:
    member_attributes.define_attribute(HEIGHT, "owner", NOW)
    member_attributes.define_attribute(SKIN, "owner", NOW)


def test_values_are_stored_normalised_and_a_bad_one_writes_nothing(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", three_members))
    define_both()
    assert member_attributes.set_attributes("m-1", {"height_cm": "170.0", "skin": "油性"}, "amy", NOW) == {
        "height_cm": "170",
        "skin": "油性",
    }
    with pytest.raises(member_attributes.AttributeErrors) as caught:
        member_attributes.set_attributes(
            "m-1", {"height_cm": "1米7", "skin": "混合", "eyes": "blue"}, "amy", NOW
        )
    assert caught.value.problems == {
        "height_cm": "身高 (height_cm): “1米7” is not a number like 170 or 62.5 / 请填写数字，如 170 或 62.5",
        "eyes": "eyes: no such attribute (define it first) / 没有这个属性，请先定义",
    }
    assert member_attributes.member_attributes("m-1") == {"height_cm": "170", "skin": "油性"}
    assert member_attributes.set_attributes("m-1", {"skin": ""}, "amy", NOW) == {"height_cm": "170"}
    trail = [(a["action"], a["detail"]) for a in owner_audit.trail("member:m-1")]
    assert trail == [
        ("member.attributes", {"height_cm": "170", "skin": "油性"}),
        ("member.attributes", {"skin": ""}),
    ]


def test_a_type_cannot_change_under_existing_values(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", three_members))
    define_both()
    relabelled = AttributeSpec(
        code="skin", label_zh="皮肤", type="choice", options=("干性", "油性", "混合", "中性")
    )
    member_attributes.define_attribute(relabelled, "owner", NOW)
    assert [s.label_zh for s in member_attributes.attribute_specs()] == ["身高", "皮肤"]
    member_attributes.set_attributes("m-2", {"height_cm": "158"}, "amy", NOW)
    with pytest.raises(member_attributes.AttributeErrors, match="已有会员填写，不能改类型"):
        member_attributes.define_attribute(
            AttributeSpec(code="height_cm", label_zh="身高", type="text"), "o", NOW
        )
    assert MemberAttribute.get().value == "158"


def test_tags_replace_and_are_audited_only_when_they_change(hub_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", three_members))
    assert member_attributes.set_tags("m-1", [" VIP ", "宝妈", "VIP"], "amy", NOW) == ["VIP", "宝妈"]
    assert member_attributes.set_tags("m-1", ["宝妈", "VIP"], "amy", NOW) == ["VIP", "宝妈"]
    with pytest.raises(member_attributes.AttributeErrors, match="标签不能包含逗号、分号或竖线"):
        member_attributes.set_tags("m-1", ["团购;客户"], "amy", NOW)
    assert member_attributes.member_tags("m-1") == ["VIP", "宝妈"]
    assert [a["detail"] for a in owner_audit.trail("member:m-1")] == [
        {"after": ["VIP", "宝妈"], "before": []}
    ]


def test_api_defines_sets_and_shows_the_profile(hub_db, tmp_path: Path, signed_in) -> None:  # type: ignore[no-untyped-def]
    ingest("K01", on_terminal(tmp_path, "K01", three_members))
    client = signed_in(create_app(TZ))
    made = client.post("/api/v1/attributes", json={**SKIN.model_dump(mode="json"), "by": "owner"})
    assert made.status_code == 201
    assert client.get("/api/v1/attributes").json() == [
        {
            "code": "skin",
            "label_zh": "肤质",
            "label_en": "Skin",
            "type": "choice",
            "options": ["干性", "油性", "混合"],
        }
    ]
    bad = client.put("/api/v1/members/m-1/attributes", json={"values": {"skin": "中性"}, "by": "amy"})
    assert bad.status_code == 422
    assert bad.json() == {
        "detail": "invalid values / 填写有误",
        "errors": {"skin": "肤质 (skin): “中性” is not one of 干性 / 油性 / 混合 / 请从选项中选择"},
    }
    assert client.put(
        "/api/v1/members/m-1/attributes", json={"values": {"skin": "干性"}, "by": "amy"}
    ).json() == {"skin": "干性"}
    assert client.put("/api/v1/members/m-1/tags", json={"tags": ["VIP"], "by": "amy"}).json() == ["VIP"]
    assert client.put("/api/v1/members/m-1/tags", json={"tags": [""], "by": "amy"}).status_code == 422
    profile = client.get("/api/v1/members/m-1/profile").json()
    assert (profile["tags"], profile["attributes"], profile["balances"], profile["coupons"]) == (
        ["VIP"],
        {"skin": "干性"},
        {},
        [],
    )
    assert client.get("/api/v1/members/nobody/profile").status_code == 404
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/attributes",
        "/api/v1/members/{member_id}/attributes",
        "/api/v1/members/{member_id}/tags",
    } <= set(paths)
