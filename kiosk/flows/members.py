"""Members at the kiosk: joining with consent, phone + PIN sign-in with a lockout, and My account
(balances, history, change PIN, export my data, erase my data).

Every PIN typed here (sign-in, the old PIN of a change, the PIN that confirms an
erasure) counts toward one lockout per phone, kept in the terminal's database
(:mod:`kiosk.store.pin_tries`) under the member's id (a phone of no member: its
blind index), so neither a restart nor a business-key rotation resets it.

:class:`MemberFlow` moves between the member screens (``member_*`` in
:mod:`kiosk.screens`) and writes through :mod:`kiosk.store.members`, each change
with its outbox event in one transaction. It never imports Kivy: it sets the
screens' properties and the app's member. :meth:`MemberFlow.clear` empties
every member screen; the app calls it on every reset (timeout included), so a
member's data never stays on screen.
"""

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from kiosk.domain.loyalty import InvalidPhone, LoyaltyError, mask_phone, normalize_phone, sign_member_qr
from kiosk.domain.loyalty.coupons import coupon_names
from kiosk.domain.loyalty.member_details import DetailsChange
from kiosk.domain.loyalty.pin_lockout import PinLockout
from kiosk.domain.loyalty.registration import InvalidPin, check_new_pin, registration_coupon
from kiosk.flows.members_source import NeedsAttendant, StoreMemberSource
from kiosk.store import members
from kiosk.store.member_models import Member
from kiosk.store.pii import hash_pin, verify_pin
from kiosk.store.pin_tries import StoredPinLockout
from kiosk.translations import N_

log = logging.getLogger(__name__)
T = TypeVar("T")

SCREENS = (
    "member_phone",
    "member_consent",
    "member_name",
    "member_pin",
    "member_account",
    "member_rewards",
    "member_export",
    "member_erase",
)
SPOKEN = {  # what voice prompts say when a member screen appears
    "member_phone": "m_phone_prompt",
    "member_consent": "m_consent_title",
    "member_name": "m_name_title",
    "member_account": "m_account_title",
    "member_rewards": "m_rewards_title",
    "member_export": "m_export_title",
    "member_erase": "m_erase_title",
}
EXPORT_LINK_MINUTES = 10
HISTORY_ROWS = 20

_PIN_ERRORS = {  # InvalidPin's English half -> the screen's string key
    "the PIN must be 4 to 6 digits": N_("m_pin_short"),
    "the PIN must not be one digit repeated": N_("m_pin_same_digits"),
    "the two PINs differ": N_("m_pin_mismatch"),
}


def pin_error_key(error: InvalidPin) -> str:
    """The screen text for an :class:`InvalidPin`."""
    return _PIN_ERRORS.get(str(error).split(" / ")[0], N_("m_pin_short"))


class MemberFlow:
    """The member screens' steps; one instance per app, state cleared on every reset."""

    def __init__(self, app: Any, lockout: PinLockout | StoredPinLockout | None = None) -> None:
        self.app = app
        self.lockout = lockout or StoredPinLockout()
        self.generation = 0
        self._reset_state()

    def _reset_state(self) -> None:
        self.purpose = ""  # join, sign_in, change_pin, erase, edit_name (staff, for the member)
        self.editor = ""  # the staff member correcting the member's name (edit_name)
        self.came_from = "idle"
        self.phone = ""  # E.164 of the phone being joined or signed in
        self.consent_version = ""
        self.marketing = False
        self.name = ""
        self.first_pin = ""
        self.had_pin = False  # the old PIN was checked: "changed", not "set"
        self.busy = False  # a PIN is being hashed or checked on a worker thread
        self.generation += 1  # results of work started before a clear are dropped

    # --- plumbing -----------------------------------------------------------------------
    @property
    def source(self) -> StoreMemberSource | None:
        """The store's members, or None when the terminal has no personal-data key."""
        return self.app.members if isinstance(self.app.members, StoreMemberSource) else None

    def touched(self) -> None:
        """Someone is typing: restart the inactivity timer."""
        self.app.touched()

    def screen(self, name: str) -> Any:
        """The member screen ``name``."""
        return self.app.root.get_screen(name)

    def _show(self, name: str) -> None:
        self.app.root.current = name
        if name in SPOKEN:  # voice prompts (when on); the PIN screen speaks its step in _ask_pin
            self.app.speak(SPOKEN[name])

    def _tell(self, key: str, error: bool = False, **values: object) -> None:
        self.app._say(key, error=error, **values)

    def _in_background(self, work: Callable[[], T], then: Callable[[T], None]) -> None:
        """Run ``work`` (a PIN hash or check: scrypt, tens of ms) on a worker thread, keypad off;
        ``then(result)`` runs on the Clock, unless the flow was cleared meanwhile (timeout)."""
        self.busy = True
        self.screen("member_pin").busy = True
        generation = self.generation

        def run() -> None:
            try:
                result = work()
            except Exception:  # shown to the member below, logged whole here
                log.exception("member PIN work failed")
                self.app.deliver(lambda: self._deliver(generation, lambda _r: self._failed(), None))
                return
            self.app.deliver(lambda: self._deliver(generation, then, result))

        threading.Thread(target=run, name="member-pin", daemon=True).start()

    def _deliver(self, generation: int, then: Callable[[T], None], result: T) -> None:
        if generation != self.generation:
            return  # the member left (reset, timeout): nothing of theirs is shown again
        self.busy = False
        self.screen("member_pin").busy = False
        then(result)

    def _failed(self) -> None:
        pin_screen = self.screen("member_pin")
        pin_screen.note(N_("m_failed"), error=True)

    def _ask_pin(self, step: str, title: str, note: str = "", error: bool = True, **values: object) -> None:
        pin_screen = self.screen("member_pin")
        subtitle = mask_phone(self.phone) if self.purpose == "sign_in" and self.phone else ""
        pin_screen.ask(step, title, subtitle)
        pin_screen.note(note, error=error, **values)
        self._show("member_pin")
        self.app.speak(note if note else step, **values)

    # --- starting ---------------------------------------------------------------------
    def start_join(self) -> None:
        """注册会员: phone first."""
        self._start("join")

    def start_sign_in(self) -> None:
        """手机号登录: phone, then PIN."""
        self._start("sign_in")

    def _start(self, purpose: str) -> None:
        if self.source is None:
            self._tell(N_("m_no_members"), error=True)
            return
        came_from = self.app.root.current
        self.clear()
        self.purpose, self.came_from = purpose, came_from if came_from in ("idle", "cart", "pick") else "cart"
        self.screen("member_phone").purpose = purpose
        self._show("member_phone")

    def start_name_edit(self, staff_id: str) -> None:
        """Staff correct the name of the member shown: the name screen, then the name is saved."""
        came_from = self.app.root.current
        self.clear()
        self.purpose, self.editor = "edit_name", staff_id
        self.came_from = came_from if came_from in ("idle", "cart", "pick") else "cart"
        self.screen("member_name").editing = True
        self._show("member_name")

    def cancel(self) -> None:
        """Back: from My account's sub-steps to My account, otherwise to where the member started."""
        if self.purpose in ("change_pin", "erase"):
            self.open_account()
            return
        came_from = self.came_from
        self.clear()
        self._show(came_from)

    # --- phone, consent, name ---------------------------------------------------------
    def phone_entered(self, digits: str) -> None:
        """OK on the phone keypad: a bad number is explained; a known one signs in instead of joining."""
        source = self.source
        assert source is not None
        phone_screen = self.screen("member_phone")
        try:
            self.phone = normalize_phone(digits)
        except InvalidPhone:
            phone_screen.note(N_("m_phone_bad"), error=True, phone=phone_screen.shown(digits))
            return
        if self.purpose == "join":
            known = members.find_by_phone(source.key, self.phone)
            if known is None:
                self._show("member_consent")
                return
            if not known.pin_hash:
                phone_screen.note(N_("m_phone_known_no_pin"), error=True)
                return
            self.purpose = "sign_in"
            self._ask_pin(N_("m_pin_enter"), "m_sign_in_title", N_("m_phone_known"), error=False)
            return
        if not self._locked():
            self._ask_pin(N_("m_pin_enter"), "m_sign_in_title")

    def consent_given(self, version: str, marketing: bool = False) -> None:
        """同意并继续: keep the consent version and the separate marketing answer; the name is next."""
        self.consent_version = version
        self.marketing = marketing
        self._show("member_name")

    def consent_declined(self) -> None:
        """不同意: nothing is stored; back where the member started."""
        came_from = self.came_from
        self.clear()
        self._show(came_from)
        self._tell(N_("m_declined"), error=True)

    def name_entered(self, name: str) -> None:
        """The optional name; the PIN is next (when staff correct a name: saved, and back)."""
        if self.purpose == "edit_name":
            staff_id, came_from = self.editor, self.came_from
            self.clear()
            self._show(came_from)
            self.app.save_member_details(staff_id, DetailsChange(name=name))
            return
        self.name = name
        self._ask_pin(N_("m_pin_choose"), "m_join_title")

    # --- PINs ---------------------------------------------------------------------------
    def pin_entered(self, pin: str) -> None:
        """OK on the PIN keypad: what it means depends on the step shown."""
        step = self.screen("member_pin").step
        if step in ("m_pin_choose", "m_pin_new"):
            self._first_pin(pin, step)
        elif step == "m_pin_repeat":
            self._second_pin(pin, N_("m_pin_choose"), self._join)
        elif step == "m_pin_new_repeat":
            self._second_pin(pin, N_("m_pin_new"), self._change_pin)
        elif step == "m_pin_enter":
            self._sign_in(pin)
        elif step == "m_pin_old":
            self._account_pin(pin, step, "m_change_pin", N_("m_old_pin_wrong"), self._old_pin_right)
        elif step == "m_pin_erase":
            self._account_pin(pin, step, "m_erase_title", N_("m_erase_pin_wrong"), self._erase)

    def _first_pin(self, pin: str, step: str) -> None:
        title = self.screen("member_pin").title_key
        try:
            check_new_pin(pin, pin)
        except InvalidPin as exc:
            self._ask_pin(step, title, pin_error_key(exc))
            return
        self.first_pin = pin
        self._ask_pin(N_("m_pin_repeat") if step == "m_pin_choose" else N_("m_pin_new_repeat"), title)

    def _second_pin(self, pin: str, restart: str, done: Any) -> None:
        if pin != self.first_pin:
            self.first_pin = ""
            self._ask_pin(restart, self.screen("member_pin").title_key, N_("m_pin_mismatch"))
            return
        done(pin)

    def _locked(self) -> bool:
        source = self.source
        assert source is not None
        seconds = self.lockout.seconds_locked(members.pin_holder(source.key, self.phone), time.time())
        if seconds:
            target = self.screen(self.app.root.current) if self.app.root.current in SCREENS else None
            (target or self.screen("member_phone")).note(
                N_("m_locked"), error=True, minutes=-(-seconds // 60)
            )
        return bool(seconds)

    def _sign_in(self, pin: str) -> None:
        source = self.source
        assert source is not None
        if self._locked():
            return
        member = members.find_by_phone(source.key, self.phone)
        usable = member is not None and not members.is_erased(member) and bool(member.pin_hash)
        stored = member.pin_hash if member is not None and usable else ""
        self._in_background(
            lambda: bool(stored) and verify_pin(pin, stored), lambda ok: self._signed_in(member, ok)
        )

    def _signed_in(self, member: Member | None, ok: bool) -> None:
        source = self.source
        assert source is not None
        holder = members.pin_holder(source.key, self.phone)
        if not ok or member is None:
            left = self.lockout.wrong(holder, time.time())
            if left == 0:
                log.warning("phone + PIN sign-in locked after repeated wrong PINs")
                minutes = int(self.lockout.lock_s // 60)
                self._ask_pin(N_("m_pin_enter"), "m_sign_in_title", N_("m_locked"), minutes=minutes)
            else:
                self._ask_pin(N_("m_pin_enter"), "m_sign_in_title", N_("m_pin_wrong"), left=left)
            return
        self.lockout.right(holder)
        view = self._identify(member)
        self._tell(N_("m_signed_in"), name=view.name_masked)

    def _join(self, pin: str) -> None:
        self._in_background(lambda: hash_pin(pin), self._joined)

    def _joined(self, pin_hash: str) -> None:
        source = self.source
        assert source is not None
        now = source.now()
        member_id = str(uuid.uuid4())
        coupon = registration_coupon(source.rules.registration_coupon, member_id, str(uuid.uuid4()), now)
        terminal = source.terminal
        where = f"{terminal.store}/{terminal.device}"
        consent = members.Consent(
            version=self.consent_version, where=where, marketing=self.marketing, lang=self.app.lang
        )
        joined = members.register_member(
            source.key, terminal, now, self.phone, consent,
            name=self.name, member_id=member_id, pin_hash=pin_hash, coupon=coupon,
        )  # fmt: skip
        self._identify(joined.member)
        gift = {"zh": "", "en": ""}
        if coupon is not None and joined.created:
            gift = {lang: self.app.tr("m_joined_coupon", lang, name=coupon.name_zh) for lang in ("zh", "en")}
        self._tell(N_("m_joined"), coupon=gift)

    def _identify(self, member: Member) -> Any:
        """Make ``member`` the sale's member and go back to shopping; return their view."""
        source = self.source
        assert source is not None
        view = source.view(member)
        came_from = self.came_from
        self.clear()
        app = self.app
        app.member = view
        app.refresh_totals()
        app.root.get_screen("cart").show(app.cart, app.lang)
        self._show("cart" if came_from in ("idle", "pick") else came_from)
        return view

    # --- My account -----------------------------------------------------------------------
    def open_account(self) -> None:
        """我的账户 for the identified member."""
        source, view = self.source, self.app.member
        if source is None or view is None:
            return
        self.purpose, self.first_pin, self.had_pin = "", "", False
        if self.app.root.current not in SCREENS:
            self.came_from = self.app.root.current
        row = Member.get_by_id(view.member_id)
        view = source.view(row)
        self.app.member = view
        account = self.screen("member_account")
        account.member = view
        account.has_pin = bool(row.pin_hash)
        account.history = [
            (e.at[:10], e.kind, e.amount) for e in members.points_history(row.id, HISTORY_ROWS)
        ]
        account.coupons = [
            (coupon_names(c), f"{c.valid_until:%Y-%m-%d}") for c in source.usable_coupons(row.id)
        ]
        account.cards = [
            (held.card.id, source.count_card_names(held.card.product_sku), held.visits_left,
             held.card.expires_on.isoformat())
            for held in members.count_cards(row.id)
        ]  # fmt: skip
        self._show("member_account")

    def use_count_card(self, card_id: str) -> None:
        """用一次: the first tap asks 再点一次确认; a second tap on the same card takes one visit, and My
        account shows the visits left."""
        source, view = self.source, self.app.member
        if source is None or view is None:
            return
        screen = self.screen("member_account")
        names = next((n for c, n, _left, _until in screen.cards if c == card_id), {"zh": "", "en": ""})
        if screen.pending_card != card_id:  # the first tap asks; a second tap on the same card books
            screen.pending_card = card_id
            screen.note(N_("m_count_card_confirm"), name=names)
            return
        screen.pending_card = ""
        try:
            left = source.use_count_visit(view, card_id)
        except LoyaltyError as exc:  # expired, none left: nothing booked
            log.info("count card %s refused: %s", card_id, exc)
            screen.note(N_("m_count_card_refused"), error=True, name=names)
            return
        self.open_account()
        self.screen("member_account").note(N_("m_count_card_used"), name=names, left=left)

    # --- Rewards (积分兑换) -----------------------------------------------------------------
    def open_rewards(self) -> None:
        """积分兑换: the owner's reward list with the member's points; a reward the points do not reach
        is shown but cannot be chosen."""
        source, view = self.source, self.app.member
        if source is None or view is None:
            return
        screen = self.screen("member_rewards")
        screen.clear()
        screen.member = source.view(Member.get_by_id(view.member_id))
        screen.rewards = list(source.rules.rewards)
        if not screen.rewards:
            screen.note(N_("m_rewards_none"))
        self._show("member_rewards")

    def choose_reward(self, reward_id: str) -> None:
        """A tap on a reward: it becomes the one 确认兑换 / Redeem would take."""
        screen = self.screen("member_rewards")
        screen.chosen = next((r for r in screen.rewards if r.id == reward_id), None)
        screen.note("")

    def redeem_chosen_reward(self) -> None:
        """确认兑换: spend the points on the chosen reward, then back to My account with what was done."""
        source, screen = self.source, self.screen("member_rewards")
        reward = screen.chosen
        if source is None or reward is None or self.app.member is None:
            return
        name = {"zh": reward.name_zh, "en": reward.name_en or reward.name_zh}
        try:
            source.redeem_reward(self.app.member, reward.id)
        except NeedsAttendant:
            screen.note(N_("m_reward_offline_cap"), error=True)
            return
        except LoyaltyError:
            log.info("reward %s refused for the member's points", reward.id)
            screen.note(N_("m_reward_short"), error=True, name=name, points=reward.points)
            return
        self.open_account()
        self.screen("member_account").note(N_("m_reward_done"), name=name, points=reward.points)

    def leave_account(self) -> None:
        """返回购物."""
        came_from = self.came_from
        self.clear()
        self._show("cart" if came_from in ("idle", "pick") else came_from)

    def start_pin_change(self) -> None:
        """修改密码 (old first) or 设置密码 for a member without one."""
        has_pin = self.screen("member_account").has_pin
        self.purpose = "change_pin"
        title = "m_change_pin" if has_pin else "m_set_pin"
        self._ask_pin(N_("m_pin_old") if has_pin else N_("m_pin_new"), title, "")

    def _account_pin(self, pin: str, step: str, title: str, wrong_key: str, then: Callable[[], None]) -> None:
        """Check the signed-in member's PIN for ``step``; wrong ones count toward the phone's lockout."""
        row = Member.get_by_id(self.app.member.member_id)
        key = row.id  # the holder phone + PIN sign-in counts for this member (pin_holder): five tries in all
        seconds = self.lockout.seconds_locked(key, time.time())
        if seconds:
            self._ask_pin(step, title, N_("m_pin_locked"), minutes=-(-seconds // 60))
            return
        stored = row.pin_hash

        def checked(ok: bool) -> None:
            if ok:
                self.lockout.right(key)
                then()
                return
            left = self.lockout.wrong(key, time.time())
            if left:
                self._ask_pin(step, title, wrong_key, left=left)
            else:
                log.warning("member PIN locked after repeated wrong PINs at %s", step)
                self._ask_pin(step, title, N_("m_pin_locked"), minutes=int(self.lockout.lock_s // 60))

        self._in_background(lambda: bool(stored) and verify_pin(pin, stored), checked)

    def _old_pin_right(self) -> None:
        self.had_pin = True
        self._ask_pin(N_("m_pin_new"), "m_change_pin")

    def _change_pin(self, pin: str) -> None:
        self._in_background(lambda: hash_pin(pin), self._pin_changed)

    def _pin_changed(self, pin_hash: str) -> None:
        source = self.source
        assert source is not None
        members.set_pin_hash(source.terminal, source.now(), self.app.member.member_id, pin_hash)
        done = N_("m_pin_changed") if self.had_pin else N_("m_pin_set")
        self.open_account()
        self.screen("member_account").note(done)

    def show_export(self) -> None:
        """导出我的资料: a signed link to the hub's download page, as a QR (a PIN is needed there)."""
        source = self.source
        assert source is not None
        export = self.screen("member_export")
        export.clear()
        if self.screen("member_account").has_pin:
            expires = source.now() + dt.timedelta(minutes=EXPORT_LINK_MINUTES)
            token = sign_member_qr(self.app.member.member_id, expires, source.key.link_key())
            export.show_link(f"{self.app.settings.hub_url.rstrip('/')}/my-data/{token}", EXPORT_LINK_MINUTES)
        self._show("member_export")

    def ask_erasure(self) -> None:
        """删除我的资料: the confirm screen, with what will be lost."""
        erase = self.screen("member_erase")
        erase.points = self.app.member.points
        erase.stored_value_fen = self.app.member.stored_value_fen
        self._show("member_erase")

    def confirm_erasure(self) -> None:
        """确认删除: a member with a PIN types it first, so nobody else can erase them at their session."""
        row = Member.get_by_id(self.app.member.member_id)
        if not row.pin_hash:
            self._erase()
            return
        seconds = self.lockout.seconds_locked(row.id, time.time())
        if seconds:
            self.screen("member_erase").note(N_("m_pin_locked"), error=True, minutes=-(-seconds // 60))
            return
        self.purpose = "erase"
        self._ask_pin(N_("m_pin_erase"), "m_erase_title")

    def _erase(self) -> None:
        """Erase here, tell the hub (outbox), and reset the screen."""
        source = self.source
        assert source is not None
        members.request_erasure(source.terminal, source.now(), self.app.member.member_id)
        self.app.reset()
        self._tell(N_("m_erased"))

    # --- clearing -------------------------------------------------------------------------
    def clear(self) -> None:
        """Empty every member screen and forget the flow's state (phone, PINs, consent).

        Screens not built yet hold nothing to empty; asking for them would build them.
        """
        for name in SCREENS:
            if self.app.root.built(name):
                self.screen(name).clear()
        self._reset_state()


__all__ = ["SCREENS", "MemberFlow", "pin_error_key"]
