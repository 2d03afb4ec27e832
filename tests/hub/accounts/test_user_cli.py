"""``hub user`` and ``hub token``: accounts and tokens from the command line, no traceback on bad input."""

from click.testing import CliRunner

from hub.accounts import audit, sessions, users
from hub.cli import main as hub_main


def hub(url: str, *args: str, password: str = "a long password") -> tuple[int, str]:
    result = CliRunner().invoke(hub_main, [*args, "--db", url], env={"HUB_PASSWORD": password})
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_accounts_are_added_listed_changed_and_disabled(hub_db, hub_db_url: str) -> None:  # type: ignore[no-untyped-def]
    assert hub(hub_db_url, "user", "add", "boss", "--role", "owner") == (
        0,
        "账号 boss 已创建 / account boss added (owner)\n",
    )
    assert hub(hub_db_url, "user", "add", "li", "--role", "manager", "--stores", "S02, S01")[0] == 0
    code, out = hub(hub_db_url, "user", "add", "wang", "--role", "manager")
    assert code == 1 and "a manager needs their store codes" in out and "店长需要指定门店代码" in out
    code, out = hub(hub_db_url, "user", "add", "zhao", "--role", "accountant", password="short")
    assert code == 1 and "password too short: at least 10 characters" in out
    code, out = hub(hub_db_url, "user", "add", "bad\nname", "--role", "accountant")
    assert code == 1 and "账号名只能包含" in out
    assert hub(hub_db_url, "user", "list") == (0, "boss\towner\t-\tactive\nli\tmanager\tS01,S02\tactive\n")
    assert hub(hub_db_url, "user", "passwd", "li", password="another long one")[0] == 0
    assert hub(hub_db_url, "user", "disable", "li")[0] == 0
    code, out = hub(hub_db_url, "user", "disable", "boss")
    assert code == 1 and "the last owner cannot be disabled" in out
    assert hub(hub_db_url, "user", "list")[1].splitlines()[1] == "li\tmanager\tS01,S02\tdisabled"
    actions = [(a["action"], a["subject"]) for a in audit.trail() if a["by"].startswith("cli:")]
    assert actions == [
        ("user.add", "account:boss"),
        ("user.add", "account:li"),
        ("user.passwd", "account:li"),
        ("user.disable", "account:li"),
    ]
    assert users.accounts()[0].password_hash.startswith("$argon2id$")


def test_tokens_are_printed_once_listed_and_revoked(hub_db, hub_db_url: str) -> None:  # type: ignore[no-untyped-def]
    code, out = hub(hub_db_url, "token", "add", "erp", "--scope", "reports:read")
    assert code == 0 and out.startswith("hk_")
    token_id = out.removeprefix("hk_").split(".")[0]
    assert sessions.token_for(out.splitlines()[0]) is not None
    assert hub(hub_db_url, "token", "list") == (0, f"{token_id}\terp\treports:read\tused\n")
    assert hub(hub_db_url, "token", "revoke", token_id) == (
        0,
        f"令牌 {token_id} 已吊销 / token {token_id} revoked\n",
    )
    code, out = hub(hub_db_url, "token", "revoke", token_id)
    assert code == 1 and f"no live token {token_id}" in out
    code, out = hub(hub_db_url, "token", "add", "x", "--scope", "everything")
    assert code == 1 and "unknown scope 'everything'" in out
