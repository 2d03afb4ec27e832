"""The privacy consent a member reads before anything is stored: what, why, where; agree or not."""

from kivy.properties import BooleanProperty, StringProperty

from kiosk.domain.loyalty.registration import CONSENT_VERSION, consent_text
from kiosk.screens.base import load_kv
from kiosk.screens.member_base import MemberScreen


class MemberConsentScreen(MemberScreen):
    """Shows the consent text of ``version``; agreeing records this version, time and terminal."""

    version = StringProperty(CONSENT_VERSION)
    marketing = BooleanProperty(False)  # the separate, optional marketing consent: off until ticked

    def on_pre_enter(self, *args: object) -> None:
        """Every join starts with marketing unticked: consent is given, never assumed."""
        self.marketing = False

    def body(self, lang: str) -> str:
        """The consent text in ``lang``."""
        return consent_text(lang, self.version)


load_kv("member_consent")
