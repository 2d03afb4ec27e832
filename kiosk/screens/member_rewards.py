"""积分兑换 / Rewards: the owner's reward list, the member's points, one reward chosen and redeemed."""

from typing import Any

from kivy.factory import Factory
from kivy.properties import ListProperty, ObjectProperty
from kivy.uix.widget import Widget

from kiosk import i18n
from kiosk.domain.loyalty.rules import Reward
from kiosk.screens.base import load_kv
from kiosk.screens.member_base import MemberScreen


def reward_name(reward: Reward | None, lang: str) -> str:
    """The reward's name in ``lang`` (the Chinese name when it has no English one)."""
    if reward is None:
        return ""
    return reward.name_en if lang == "en" and reward.name_en else reward.name_zh


class MemberRewardsScreen(MemberScreen):
    """One button per reward (name over its points); those the points do not reach are disabled."""

    member = ObjectProperty(None, allownone=True)  # MemberView
    rewards = ListProperty([])  # kiosk.domain.loyalty.rules.Reward, the owner's order
    chosen = ObjectProperty(None, allownone=True)  # the Reward 确认兑换 would take

    def on_rewards(self, _screen: "MemberRewardsScreen", rewards: list[Reward]) -> None:
        box = self.ids.rewards
        box.clear_widgets()
        for reward in rewards:
            button = Factory.RewardButton()
            button.reward = reward
            box.add_widget(button)

    def reward_buttons(self) -> list[Widget]:
        """The reward buttons, in the owner's order."""
        return list(reversed(self.ids.rewards.children))

    def reward_text(self, reward: Reward | None, lang: str, _member: Any) -> str:
        """A reward button: its name over the points it costs."""
        if reward is None:
            return ""
        cost = i18n.tr("m_reward_points", lang, points=reward.points)
        return f"{reward_name(reward, lang)}\n{cost}"

    def confirm_text(self, lang: str, chosen: Reward | None, member: Any) -> str:
        """What 确认兑换 will do, or the hint to choose one."""
        if member is None:
            return ""
        if chosen is None:
            return i18n.tr("m_rewards_hint", lang, points=member.points)
        return i18n.tr(
            "m_reward_confirm", lang, name=reward_name(chosen, lang), points=chosen.points,
            left=member.points - chosen.points,
        )  # fmt: skip

    def clear(self) -> None:
        """Forget the member and the choice."""
        super().clear()
        self.member, self.rewards, self.chosen = None, [], None


load_kv("member_rewards")
