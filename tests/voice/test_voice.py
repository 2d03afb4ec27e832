"""Voice prompts render once per text and language with the real espeak-ng."""

import time
import wave
from pathlib import Path

from kiosk.hw.voice import VoicePrompter, render


def test_prompt_renders_a_wav_once_and_reuses_it(tmp_path: Path) -> None:
    first = render("请扫描商品", "zh", tmp_path)
    modified = first.stat().st_mtime_ns
    again = render("请扫描商品", "zh", tmp_path)
    english = render("Please scan an item", "en", tmp_path)
    assert again == first and first.stat().st_mtime_ns == modified
    assert english != first
    with wave.open(str(first)) as wav:
        assert wav.getnframes() > wav.getframerate() // 4  # at least a quarter second of speech


def test_prompter_speaks_off_the_caller_thread_and_can_be_switched_off(tmp_path: Path) -> None:
    prompter = VoicePrompter(tmp_path, player=[], enabled=True)
    started = time.monotonic()
    prompter.say("谢谢惠顾", "zh")
    assert time.monotonic() - started < 0.05
    prompter.enabled = False
    prompter.say("Thank you", "en")
    prompter.stop()
    assert [p.name.split("-")[0] for p in prompter.spoken] == ["zh"]
