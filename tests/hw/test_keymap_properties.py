"""Decoder properties over generated input (hypothesis), with real evdev.InputEvent objects."""

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.hw.keymap import DecoderSettings, KeyDecoder, PerDeviceDecoders, key_events_for

TYPEABLE = st.text(
    alphabet=st.sampled_from([*string.printable[:95], "\x1d", "会", "员", "¥", "é", "😀"]),
    min_size=1,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(text=TYPEABLE, spacing=st.floats(min_value=0, max_value=0.19))
def test_any_typeable_text_decodes_to_itself(text: str, spacing: float) -> None:
    decoder = KeyDecoder(DecoderSettings(gap=0.2))
    out = [c for e in key_events_for(text, at=1000.0, spacing=spacing) if (c := decoder.feed(e))]
    assert out == [text]
    assert decoder.dropped == 0


@settings(max_examples=100, deadline=None)
@given(a=TYPEABLE, b=TYPEABLE, order=st.lists(st.booleans(), min_size=1, max_size=600))
def test_two_devices_in_any_interleaving_decode_separately(a: str, b: str, order) -> None:
    streams = {"scanner": list(key_events_for(a, at=5.0)), "card": list(key_events_for(b, at=5.0))}
    decoders = PerDeviceDecoders()
    out: dict[str, list[str]] = {"scanner": [], "card": []}
    picks = iter(order)
    while streams["scanner"] or streams["card"]:
        device = "scanner" if next(picks, True) else "card"
        if not streams[device]:
            device = "card" if device == "scanner" else "scanner"
        if code := decoders.feed(device, streams[device].pop(0)):
            out[device].append(code)
    assert out == {"scanner": [a], "card": [b]}
