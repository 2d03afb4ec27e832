"""Staff accounts at the hub: PINs only as salted hashes, badges unique, rosters per store, all audited."""

import datetime as dt
import json

import pytest

from hub.accounts import audit
from hub.staff import accounts
from kiosk.domain.staff import StaffError, verify_pin

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def test_accounts_rosters_and_the_permission_matrix(hub_db) -> None:  # type: ignore[no-untyped-def]
    wang = accounts.add_staff("王芳", "attendant", ["S01"], "1357", NOW, "owner", badge="04a1b2c3")
    zhao = accounts.add_staff("赵强", "manager", ["S01", "S02"], "8642", NOW, "owner")
    assert (wang.badge, wang.stores, wang.active) == ("04A1B2C3", ("S01",), True)
    assert verify_pin("1357", wang.pin_hash) and not verify_pin("1358", wang.pin_hash)
    with pytest.raises(StaffError) as taken:
        accounts.add_staff("李雷", "attendant", ["S02"], "2468", NOW, "owner", badge="04A1B2C3")
    assert taken.value.zh == "员工卡 04A1B2C3 已被其他员工使用。"
    with pytest.raises(StaffError, match="A PIN is 4 to 8 digits"):
        accounts.add_staff("李雷", "attendant", ["S02"], "12a4", NOW, "owner")
    with pytest.raises(StaffError, match="The role is one of"):
        accounts.add_staff("李雷", "cashier", ["S02"], "1234", NOW, "owner")
    assert accounts.roster_version() == 2  # refused changes move nothing

    s02 = accounts.roster_for("S02")
    assert [p["name"] for p in s02["staff"]] == ["赵强"] and s02["version"] == 2
    accounts.disable_staff(wang.id, NOW, "owner")
    s01 = accounts.roster_for("S01")
    assert [(p["name"], p["active"]) for p in s01["staff"]] == [("王芳", False), ("赵强", True)]
    assert "1357" not in json.dumps(s01)

    matrix = accounts.set_permissions({"attendant": ["clock", "refund"], "owner": []}, NOW, "owner")
    assert matrix["attendant"] == ["clock", "refund"] and matrix["supervisor"] == []
    assert matrix["owner"] == list(accounts.ACTIONS)  # the owner may always do everything
    assert accounts.roster_for("S01")["permissions"] == matrix
    with pytest.raises(StaffError, match="Unknown actions"):
        accounts.set_permissions({"attendant": ["fly"]}, NOW, "owner")
    trail = [(row["action"], row["subject"]) for row in audit.trail()]
    assert trail == [
        ("staff_add", wang.id), ("staff_add", zhao.id),
        ("staff_disable", wang.id), ("staff_permissions", "roles"),
    ]  # fmt: skip
    assert accounts.roster_version() == 4
