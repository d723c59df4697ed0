"""Every benchmark in one run, one table: figure, ours, floor, ratio (median of pairs), spread, target, met.

Run from the repository root (a script, not a test; on a shared machine, nicely):

    nice -n 10 python tests/bench/run_all.py [--sales 1000000] [--only commit,startup]
                                             [--markdown FILE] [--budget 900]

Each benchmark runs in its own process, one after the other, with sizes
chosen so the whole run fits in ``--budget`` seconds on a loaded two-core
machine (the 1,000,000-sale file is seeded once into the shared cache,
tests/bench/common.py, and copied for each benchmark that writes). A
benchmark that misses its own deadline, or takes longer than its share,
is stopped and says so in its row; the others still run. The table starts
with the machine and its load, before and after, so a figure can be read
against the weather it was taken in. ``--markdown`` also writes the table
as Markdown (README's benchmark section quotes it).
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Tuple

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench import common  # noqa: E402

#: (name, script, arguments, seconds it may take); {sales} is --sales.
BENCHES: List[Tuple[str, str, List[str], int]] = [
    ("startup", "bench_startup.py", ["--runs", "9", "--scans", "20"], 150),
    ("commit", "bench_commit.py", ["--sales", "{sales}", "--commits", "300"], 240),
    ("scale", "bench_scale.py", ["--sales", "{sales}", "--small", "100", "--runs", "100", "--till-runs", "15"], 420),
    ("verify", "bench_verify.py", ["--sales", "{sales}", "--runs", "3", "--new", "1000"], 420),
    ("reports", "bench_reports.py", ["--sales", "{sales}", "--runs", "5"], 240),
    ("catalogue", "bench_catalogue.py", ["--products", "20000", "--lookups", "2000", "--rounds", "3"], 240),
    ("hang", "bench_hang.py", ["--rounds", "3", "--scans", "8"], 180),
    ("print", "bench_print.py", ["--repeat", "2"], 240),
    ("import_wait", "bench_import_wait.py", ["--products", "30000", "--floor", "150"], 300),
    ("backup", "bench_backup.py", ["--sales", "100000", "--floor", "150", "--no-steps"], 240),
    ("sync", "bench_sync.py", ["--sales", "10000"], 600),
]


def run_one(name: str, script: str, args: List[str], seconds: float, folder: Path) -> List[common.Figure]:
    """One benchmark in its own process group; its figures, or one row saying why there are none."""
    out = folder / f"{name}.json"
    log = folder / f"{name}.log"
    command = [sys.executable, str(ROOT / "tests" / "bench" / script), *args, "--figures", str(out)]
    started = time.monotonic()
    print(f"== {name}: {' '.join(command[1:])}", flush=True)
    with open(log, "w", encoding="utf-8") as handle:
        process = subprocess.Popen(command, cwd=str(ROOT), stdout=handle, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            code = process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return [common.Figure(f"{name}: stopped", f"not done within {seconds:.0f} s (log {log})", met=False)]
    took = time.monotonic() - started
    print(f"   {name} done in {took:.0f} s (exit {code}; log {log})", flush=True)
    if not out.exists():
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or [""]
        return [common.Figure(f"{name}: no figures", f"exit {code}: {tail[0][:100]}", met=False)]
    return common.read_figures(out)


def markdown(rows: List[common.Figure], before: str, after: str, took: float) -> str:
    lines = [f"Taken by `tests/bench/run_all.py` in {took / 60:.1f} min. Before: {before}. After: {after}.", "",
             "| figure | ours | floor | ratio (median of pairs) | spread p25-p75 (min-max) | target | met |",
             "|---|---|---|---|---|---|---|"]
    for f in rows:
        cells = (f.figure, f.ours, f.floor, f.ratio, f.spread, f.target, common.met_text(f.met))
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sales", type=int, default=1_000_000, help="sales stored for commit, scale, verify, reports")
    parser.add_argument("--only", default="", help="comma-separated names: " + ",".join(b[0] for b in BENCHES))
    parser.add_argument("--budget", type=float, default=900, help="seconds the whole run may take")
    parser.add_argument("--markdown", default="", help="also write the table as Markdown here")
    args = parser.parse_args()
    chosen = [b for b in BENCHES if not args.only or b[0] in args.only.split(",")]
    started = time.monotonic()
    before = common.machine()
    print(f"machine: {before}", flush=True)
    common.seeded_sqlite(args.sales)  # once, before the clocks of the benchmarks start
    rows: List[common.Figure] = []
    logs = Path(tempfile.mkdtemp(prefix="chaoying-run-all-"))  # kept: each benchmark's own output
    for name, script, bench_args, seconds in chosen:
        left = args.budget - (time.monotonic() - started)
        if left <= 10:
            rows.append(common.Figure(f"{name}: not run", f"the {args.budget:.0f} s budget was spent", met=False))
            continue
        bench_args = [a.replace("{sales}", str(args.sales)) for a in bench_args]
        rows += run_one(name, script, bench_args, min(seconds, left), logs)
    took = time.monotonic() - started
    after = common.machine()
    common.print_table(f"All benchmarks in {took / 60:.1f} min (logs in {logs}). Before: {before}.\n"
                       f"After: {after}.", rows)
    if args.markdown:
        Path(args.markdown).write_text(markdown(rows, before, after, took), encoding="utf-8")
    return 0 if common.all_met(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
