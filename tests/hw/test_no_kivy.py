"""Hardware code runs on its own threads and in the CLI: it never imports Kivy."""

import subprocess
import sys


def test_importing_every_hw_module_does_not_import_kivy() -> None:
    modules = [
        "card",
        "cli",
        "config",
        "devices",
        "errors",
        "escpos_parser",
        "events",
        "fake_scanner",
        "fonts",
        "input_reader",
        "keymap",
        "print_queue",
        "printer",
        "receipt_render",
        "scans",
        "status",
        "virtual_printer",
    ]
    code = "; ".join(f"import kiosk.hw.{m}" for m in modules)
    code += "; import sys; print(sorted(m for m in sys.modules if m.split('.')[0] == 'kivy'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"
