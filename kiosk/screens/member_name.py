"""How to call the member (称呼), optional: a surname picker then 先生/女士, or a typed name.

The same screen changes a member's name when staff correct it for them (``editing``).

Kivy has no Chinese input method, so Chinese names are picked, not typed: a
paged grid of the 96 most common surnames, then 先生 / 女士 / 不说 (Mr / Ms / just
the surname), giving e.g. 王女士. 其他 / Other opens the text field for any other
name (Latin letters). Masked on screen as ever: 王女士 -> 王**.
"""

from kivy.factory import Factory
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.button import Button

from kiosk.screens.base import load_kv
from kiosk.screens.member_base import MemberScreen
from kiosk.translations import N_

MAX_NAME = 20
# the most common surnames in mainland China, most common first (the first page covers about half the people)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩邓冯曹彭曾肖田董潘袁蔡"
    "蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛"
    "闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严"
)
PAGE_SIZE = 24  # 8 columns x 3 rows
TITLES = {"mr": "先生", "ms": "女士", "none": ""}


def called(surname: str, title: str) -> str:
    """The name a member picked: ``called("王", "ms")`` is 王女士; ``none`` keeps the surname alone."""
    return surname + TITLES[title]


class MemberNameScreen(MemberScreen):
    """Three steps in one screen: ``surname`` (the grid), ``title`` (先生/女士/不说), ``typed`` (a field)."""

    step = StringProperty("surname")
    editing = BooleanProperty(False)  # staff correct a member's name: 跳过 becomes 不留称呼 (remove it)
    page = NumericProperty(0)
    surname = StringProperty("")

    @property
    def pages(self) -> int:
        """How many pages the surname grid has."""
        return -(-len(SURNAMES) // PAGE_SIZE)

    def on_kv_post(self, _base_widget: object) -> None:
        self.fill()

    def on_step(self, _screen: object, step: str) -> None:
        self.ids.steps.current = step

    def fill(self) -> None:
        """Put the current page's surnames in the grid."""
        grid = self.ids.surnames
        grid.clear_widgets()
        for surname in SURNAMES[self.page * PAGE_SIZE : (self.page + 1) * PAGE_SIZE]:
            button = Factory.SurnameButton(text=surname)
            button.bind(on_release=self._picked)
            grid.add_widget(button)

    def surname_buttons(self) -> list[Button]:
        """The surname buttons on the page shown, in order."""
        return list(reversed(self.ids.surnames.children))

    def turn(self, by: int) -> None:
        """Show the next (``1``) or previous (``-1``) page."""
        self.flow.touched()
        self.page = (self.page + by) % self.pages
        self.fill()

    def _picked(self, button: Button) -> None:
        self.flow.touched()
        self.surname, self.step = button.text, "title"

    def choose_title(self, title: str) -> None:
        """先生 / 女士 / 不说: the name is complete."""
        self.flow.name_entered(called(self.surname, title))

    def other(self) -> None:
        """其他 / Other: type a name instead."""
        self.flow.touched()
        self.step = "typed"

    def back(self) -> None:
        """Back: from the title or the text field to the grid; from the grid out of the screen."""
        if self.step == "surname":
            self.flow.cancel()
            return
        self.step, self.surname = "surname", ""
        self.note("")

    def submit(self, skip: bool = False) -> None:
        """Hand the typed name (or none) to the flow."""
        name = "" if skip else self.ids.name.text.strip()
        if len(name) > MAX_NAME:
            self.note(N_("m_name_too_long"), error=True)
            return
        self.flow.name_entered(name)

    def clear(self) -> None:
        """Forget the name typed or picked, back on the first page."""
        super().clear()
        self.ids.name.text = ""
        self.step, self.surname, self.editing = "surname", "", False
        if self.page:
            self.page = 0
            self.fill()


load_kv("member_name")
