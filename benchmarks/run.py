"""Run the benchmarks and write one results file: ``make bench`` calls this, then ``report.py``.

Each ``benchmarks/bench_*.py`` runs in its own process with this Python (``BENCH_FULL`` and
the scripts' own variables pass through); its one JSON object is kept whole under
``details`` and its ``figures`` (``benchmarks/harness.py``) are what ``report.py`` tabulates.
The file also records the machine, the commit and the load average before and after each
script, because on a shared machine the load explains most of the spread.

    python benchmarks/run.py [--out bench-results.json] [--only sale_commit member_tap ...]

With ``--only``, the named scripts run and replace their entries in an existing file; the
others are kept as they were (each entry says when it ran and at which commit).
"""

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FORMAT = 1


def git(*args: str) -> str:
    """Output of a git command in the repository ('' when git is not there)."""
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith(("model name", "Model")):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def parse_output(stdout: str) -> dict[str, Any] | None:
    """The script's JSON object: the whole output, or the last object that starts a line."""
    try:
        whole = json.loads(stdout)
        return whole if isinstance(whole, dict) else None
    except json.JSONDecodeError:
        pass
    lines = stdout.splitlines()
    for start in range(len(lines) - 1, -1, -1):
        if lines[start].startswith("{"):
            try:
                found = json.loads("\n".join(lines[start:]))
            except json.JSONDecodeError:
                continue
            return found if isinstance(found, dict) else None
    return None


def run_one(script: Path, commit: str) -> dict[str, Any]:
    """Run one benchmark script; its entry for the results file."""
    load_before = [round(x, 2) for x in os.getloadavg()]
    started = time.perf_counter()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True)
    entry: dict[str, Any] = {
        "script": f"benchmarks/{script.name}",
        "ran_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "seconds": round(time.perf_counter() - started, 1),
        "load_avg_before": load_before,
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        "exit_code": done.returncode,
    }
    details = parse_output(done.stdout)
    if done.returncode != 0 or details is None:
        entry["error"] = (done.stderr or done.stdout)[-2000:]
        entry["figures"] = []
        return entry
    entry["figures"] = details.pop("figures", [])
    entry["details"] = details
    return entry


OUTPUTS = ("bench-results.json", "docs/perf.md")


def main() -> None:
    """Run the benchmarks, write the results file, say where the figures went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results.json")
    parser.add_argument("--only", nargs="*", default=[], help="script names without bench_ and .py")
    args = parser.parse_args()
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        wanted = {f"bench_{name.removeprefix('bench_').removesuffix('.py')}.py" for name in args.only}
        unknown = wanted - {s.name for s in scripts}
        if unknown:
            raise SystemExit(f"no such benchmark: {', '.join(sorted(unknown))}")
        scripts = [s for s in scripts if s.name in wanted]
    # the run's own outputs (the results file, the table in docs/perf.md) do not make the code dirty
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", *(f":!{p}" for p in OUTPUTS))
    commit = git("rev-parse", "--short", "HEAD") + ("-dirty" if changed else "")
    kept: list[dict[str, Any]] = []
    earlier: dict[str, Any] = {}
    if args.only and args.out.exists():
        earlier = json.loads(args.out.read_text())
        kept = [
            e
            for e in json.loads(args.out.read_text())["benchmarks"]
            if Path(e["script"]).name not in {s.name for s in scripts}
        ]
    results: dict[str, Any] = {
        "format": FORMAT,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "machine": machine(),
        "load_avg_before": [round(x, 2) for x in os.getloadavg()],
        "full_size": os.environ.get("BENCH_FULL", "") == "1",
    }
    entries = []
    failed = []
    for script in scripts:
        print(f"== {script.name}", file=sys.stderr, flush=True)
        entry = run_one(script, commit)
        entries.append(entry)
        figures = entry["figures"]
        print(
            f"   {entry['seconds']} s, {len(figures)} figures, load {entry['load_avg_after'][0]}",
            file=sys.stderr,
        )
        if entry["exit_code"] != 0 or "error" in entry:
            failed.append(script.name)
            print(entry.get("error", "")[-800:], file=sys.stderr)
    if kept:  # a partial re-run: the file still describes the whole run it started as
        results["commit"] = earlier.get("commit", commit)  # each entry keeps the commit it ran at
        results["started"] = earlier.get("started", results["started"])
        results["load_avg_before"] = earlier.get("load_avg_before", results["load_avg_before"])
        results["reruns"] = list(dict.fromkeys([*earlier.get("reruns", []), *(s.name for s in scripts)]))
    results["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    results["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    results["benchmarks"] = sorted(kept + entries, key=lambda e: e["script"])
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
