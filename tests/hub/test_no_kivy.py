import subprocess
import sys


def test_hub_never_imports_kivy() -> None:
    code = (
        "import sys, hub.cli, hub.web.app, hub.ingest.worker, hub.ingest.batch, hub.reports.queries; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kivy', 'evdev', 'escpos')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
