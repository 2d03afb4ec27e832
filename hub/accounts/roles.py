"""Who may do what on the hub: the permission matrix of the dashboard's roles and API token scopes.

A permission is ``area:read`` or ``area:write`` (write includes read). Every route of the hub names
its area (``hub.web.auth``); a role or a token grants a set of permissions. Managers are further
limited to their own stores' members and figures (``Principal.stores``).
"""

from kiosk.translations import N_

AREAS = (
    "reports",
    "finance",
    "members",
    "campaigns",
    "catalog",
    "stock",
    "fleet",
    "rules",
    "staff",
    "attendance",
    "jobs",
    "accounts",
)

ROLES: dict[str, dict[str, str]] = {
    # the owner runs the business: everything, including accounts, devices and the audit log
    "owner": dict.fromkeys(AREAS, "write"),
    # a store manager looks after their stores' members, campaigns and shelf, and reads their figures
    "manager": {
        "members": "write",
        "campaigns": "write",
        "catalog": "write",
        "stock": "write",  # their own stores only (hub.web.stock checks the store)
        "reports": "read",
        "staff": "read",
        "attendance": "write",  # correct their stores' clockings, plan their staff's hours
    },
    # the accountant reads figures, reconciliation and exports; changes nothing
    "accountant": {"reports": "read", "finance": "read", "stock": "read"},
}

#: Each role's name as people read it: hub catalog keys, shown with ``hub.web.i18n.t(key, lang)``.
ROLE_NAMES = {
    "owner": N_("role_owner"),
    "manager": N_("role_manager"),
    "accountant": N_("role_accountant"),
}


def permissions(grants: dict[str, str]) -> frozenset[str]:
    """``{"members": "write"}`` as the permissions it gives: ``members:read`` and ``members:write``."""
    out = set()
    for area, level in grants.items():
        out.add(f"{area}:read")
        if level == "write":
            out.add(f"{area}:write")
    return frozenset(out)


def role_permissions(role: str) -> frozenset[str]:
    """What ``role`` may do; an unknown role may do nothing."""
    return permissions(ROLES.get(role, {}))


def parse_scopes(text: str) -> frozenset[str]:
    """A token's scopes from ``"reports:read,members:write"``; raises ValueError naming a bad one."""
    grants: dict[str, str] = {}
    for raw in text.replace(" ", "").split(","):
        if not raw:
            continue
        area, _, level = raw.partition(":")
        if area not in AREAS or level not in ("read", "write"):
            raise ValueError(
                f"unknown scope {raw!r}: use area:read or area:write with an area of {', '.join(AREAS)}"
                f" / 权限范围 {raw!r} 无效"
            )
        if grants.get(area) != "write":
            grants[area] = level
    if not grants:
        raise ValueError("a token needs at least one scope, e.g. reports:read / 令牌至少需要一个权限范围")
    return permissions(grants)
