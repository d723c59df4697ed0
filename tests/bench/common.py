"""What every benchmark shares: paired timing, deadlines, the seeded database cache and the table.

A benchmark on a busy machine measures the machine as much as the code. So
every comparison here is *paired*: ours and its floor run alternately
(ours-floor, floor-ours, ...), each pair gives one ratio, and the figure is
the median of those ratios with their spread (p25-p75 and min-max). A load
change then moves both sides of a pair alike, and shows as spread instead
of as a wrong ratio.

Every wait has a deadline (``deadline``): when it passes, the run ends with
a sentence saying what did not happen, never a hang.

One seeded SQLite file per size, shared by all benchmarks and cached under
the temp dir, named by the schema version it was migrated to (read from
``store.migrations.MIGRATIONS``) and by the seed's own version, so a cache
never outlives a migration. Each run works on a copy (``work_copy``).
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Bumped when what the seed writes changes, so older cached files are not reused.
SEED_VERSION = 2


# --- deadlines ----------------------------------------------------------------------


class DeadlineMissed(Exception):
    """A benchmark waited longer than its deadline for something to happen."""


class Deadline:
    """A point in time after which ``check`` ends the run with ``what`` said."""

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds, self.what = seconds, what
        self.end = time.monotonic() + seconds

    @property
    def passed(self) -> bool:
        return time.monotonic() > self.end

    def check(self) -> None:
        if self.passed:
            raise DeadlineMissed(f"{self.what}: not done within {self.seconds:g} s")


def deadline(seconds: float, what: str) -> Deadline:
    """A deadline ``seconds`` from now for ``what`` (a sentence: "the till ready for a scan")."""
    return Deadline(seconds, what)


async def wait_until(predicate: Callable[[], bool], pilot: Any, seconds: float, what: str,
                     step: float = 0.001) -> None:
    """Pause ``pilot`` until ``predicate()`` holds; end the run after ``seconds``."""
    limit = deadline(seconds, what)
    while not predicate():
        limit.check()
        await pilot.pause(step)


def run_main(main: Callable[[], int]) -> int:
    """Run a benchmark's main; a missed deadline ends it with its sentence and exit code 3."""
    try:
        return main()
    except DeadlineMissed as missed:
        print(f"\nbenchmark stopped: {missed}", file=sys.stderr, flush=True)
        return 3


# --- paired timing ------------------------------------------------------------------


def _q(ordered: Sequence[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@dataclasses.dataclass(frozen=True)
class PairStats:
    """Ours against its floor over ``pairs`` alternating pairs: medians in seconds, ratios per pair."""

    ours: float
    floor: float
    ratio: float  # median of the per-pair ratios ours / floor
    p25: float
    p75: float
    low: float
    high: float
    pairs: int
    ours_p99: float = 0.0
    floor_p99: float = 0.0

    @property
    def spread(self) -> str:
        return f"{self.p25:.2f}-{self.p75:.2f} (min-max {self.low:.2f}-{self.high:.2f})"

    @classmethod
    def of(cls, ours: Sequence[float], floor: Sequence[float]) -> "PairStats":
        ratios = sorted(a / b for a, b in zip(ours, floor) if b > 0)
        if not ratios:
            raise ValueError("no pair with a floor above zero")
        o, f = sorted(ours), sorted(floor)
        return cls(ours=statistics.median(o), floor=statistics.median(f), ratio=statistics.median(ratios),
                   p25=_q(ratios, .25), p75=_q(ratios, .75), low=ratios[0], high=ratios[-1], pairs=len(ratios),
                   ours_p99=_q(o, .99), floor_p99=_q(f, .99))


def timed(call: Callable[[], Any]) -> float:
    """Seconds ``call`` took; a call that returns a float has timed itself (what it excludes is set-up)."""
    start = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - start
    return float(result) if isinstance(result, float) else elapsed


def paired(ours: Callable[[], Any], floor: Callable[[], Any], runs: int, warmup: int = 3,
           limit: Optional[Deadline] = None) -> PairStats:
    """Run ours and floor ``runs`` times each, alternating who goes first; the per-pair ratios' median and spread.

    Either callable may return its own measured seconds (a float) to leave
    set-up out of the figure; otherwise the whole call is timed.
    """
    for _ in range(warmup):
        ours()
        floor()
    a: List[float] = []
    b: List[float] = []
    for i in range(runs):
        if limit is not None:
            limit.check()
        if i % 2:
            b.append(timed(floor))
            a.append(timed(ours))
        else:
            a.append(timed(ours))
            b.append(timed(floor))
    return PairStats.of(a, b)


# --- figures and the table ------------------------------------------------------------


@dataclasses.dataclass
class Figure:
    """One row of a benchmark's table (and of run_all's): ours against its floor, or a figure against a bound."""

    figure: str
    ours: str
    floor: str = ""
    ratio: str = ""
    spread: str = ""
    target: str = ""
    met: Optional[bool] = None

    @classmethod
    def pair(cls, figure: str, stats: PairStats, target: float, unit: str = "ms", scale: float = 1e3,
             floor_name: str = "") -> "Figure":
        """A paired row; met when the median ratio is within ``target`` (0: shown, not judged)."""
        decimals = 3 if stats.floor * scale < 10 else 1
        floor = f"{stats.floor * scale:.{decimals}f} {unit}" + (f" ({floor_name})" if floor_name else "")
        return cls(figure, f"{stats.ours * scale:.{decimals}f} {unit}", floor, f"{stats.ratio:.2f}x",
                   stats.spread, f"<= {target}x" if target else "", (stats.ratio <= target) if target else None)


def met_text(met: Optional[bool]) -> str:
    return "" if met is None else ("met" if met else "NOT met")


def print_table(title: str, figures: Sequence[Figure], out: Any = None) -> None:
    """The figures as one aligned table under ``title``."""
    out = out or sys.stdout
    header = ("figure", "ours", "floor", "ratio (median)", "spread p25-p75 (min-max)", "target", "met")
    rows = [header] + [(f.figure, f.ours, f.floor, f.ratio, f.spread, f.target, met_text(f.met)) for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    print(file=out)
    print(title, file=out)
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip(), file=out)
        if index == 0:
            print("  ".join("-" * width for width in widths), file=out)
    out.flush()


def write_figures(path: Optional[str], figures: Sequence[Figure]) -> None:
    """Store the figures as JSON for run_all.py (nothing when ``path`` is empty)."""
    if path:
        Path(path).write_text(json.dumps([dataclasses.asdict(f) for f in figures], ensure_ascii=False),
                              encoding="utf-8")


def read_figures(path: Path) -> List[Figure]:
    return [Figure(**row) for row in json.loads(path.read_text(encoding="utf-8"))]


def all_met(figures: Sequence[Figure]) -> bool:
    return all(f.met is not False for f in figures)


# --- the machine ----------------------------------------------------------------------


def machine() -> str:
    """One line on where the figures were taken: cores, load, other busy processes, Python and SQLite."""
    load = os.getloadavg()
    busy = other_work()
    return (f"{os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
            f"other busy processes: {busy or 'none'}; python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")


def other_work(threshold: float = 10.0) -> str:
    """Processes beside this one using more than ``threshold`` % of a core (by name, counted)."""
    try:
        out = subprocess.run(["ps", "-eo", "pid=,pcpu=,comm="], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    mine = {os.getpid(), os.getppid()}
    counts: Dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) < 3:
            continue
        try:
            pid, cpu = int(parts[0]), float(parts[1])
        except ValueError:
            continue
        if pid not in mine and cpu >= threshold:
            counts[parts[2]] = counts.get(parts[2], 0) + 1
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items(), key=lambda item: -item[1]))


# --- the seeded database --------------------------------------------------------------

PRODUCTS = [
    ("6901234567892", "可口可乐 330ml", 350, "瓶"),
    ("6902538004045", "康师傅红烧牛肉面", 450, "袋"),
    ("6920202888883", "农夫山泉 550ml", 200, "瓶"),
    ("2001", "苹果", 1280, "kg"),
    ("42", "塑料袋", 20, ""),
]
QTYS = [1000, 2000, 1000, 1500, 1000]
BASE_TIME = datetime.datetime(2024, 1, 1, 8, 0, 0)
AMOUNTS = [(PRODUCTS[i][2] * QTYS[i] + 500) // 1000 for i in range(5)]
TOTAL_FEN = sum(AMOUNTS)
SEED_BATCH = 20_000


def schema_version() -> int:
    """The newest migration's number: a cached file is named by it."""
    from store import migrations

    return max(number for number, _, _ in migrations.MIGRATIONS)


def cache_dir(folder: Optional[str] = None) -> Path:
    return Path(folder or tempfile.gettempdir())


def seeded_path(n: int, folder: Optional[str] = None, keyed: bool = False) -> Path:
    kind = "-hmac" if keyed else ""
    return cache_dir(folder) / f"chaoying-bench-{n}-v{schema_version()}-s{SEED_VERSION}{kind}.sqlite3"


def seeded_sqlite(n: int, folder: Optional[str] = None, keyed: bool = False) -> Path:
    """The cached file with ``n`` seeded sales (seeded now when missing); never written by a run."""
    path = seeded_path(n, folder, keyed)
    if not path.exists():
        print(f"seeding {n:,} sales into {path} (once) ...", flush=True)
        start = time.perf_counter()
        seed_sqlite(path, n)
        print(f"  seeded in {time.perf_counter() - start:.0f} s", flush=True)
    return path


@contextlib.contextmanager
def work_copy(n: int, folder: Optional[str] = None, keyed: bool = False) -> Iterator[Path]:
    """A fresh copy of the seeded file with ``n`` sales, removed afterwards."""
    cached = seeded_sqlite(n, folder, keyed)
    work_dir = Path(tempfile.mkdtemp(prefix="chaoying-bench-work-", dir=str(cache_dir(folder))))
    try:
        work = work_dir / "bench.sqlite3"
        shutil.copyfile(cached, work)
        yield work
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def sold_at(i: int) -> str:
    return (BASE_TIME + datetime.timedelta(seconds=30 * i)).strftime("%Y-%m-%d %H:%M:%S")


def seed_sqlite(path: Path, n: int) -> None:
    """``n`` 5-line cash sales of till 1, one every 30 s from 2024-01-01, that verify.

    Each sale has its lines, a payment, a printed outcome, a sold open basket
    and the commit's audit record, with real journal and audit hashes (the
    key, when one is set, seals them), written raw in batches into a file the
    store migrated, with the demo's five products.
    """
    from store import audit, chain, journal
    from store.catalogue import add_product
    from store.db import close_database, open_database
    from store.models import GENESIS_HASH

    tmp = path.with_suffix(".partial")
    for p in (tmp, Path(str(tmp) + "-wal"), Path(str(tmp) + "-shm")):
        if p.exists():
            p.unlink()
    open_database("sqlite:///" + str(tmp))
    for barcode, name, price, unit in PRODUCTS:
        add_product(barcode, name, price, unit)
    close_database()
    con = sqlite3.connect(str(tmp), isolation_level=None)
    product_ids = dict(con.execute("SELECT barcode, id FROM product"))
    # one big write with no journal and a large page cache; the file is WAL again afterwards
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")
    con.execute("BEGIN")
    kind = chain.hash_kind()
    prev, audit_prev = GENESIS_HASH, GENESIS_HASH
    lines = [dict(position=j + 1, barcode=b, name=name, unit=unit, unit_price_fen=price, qty_milli=QTYS[j],
                  amount_fen=AMOUNTS[j]) for j, (b, name, price, unit) in enumerate(PRODUCTS)]
    payment = dict(position=1, method="cash", amount_fen=TOTAL_FEN, reference="", status="ok", reason="")

    def sale_content(i: int, at: str) -> str:
        sale = dict(till_id="1", receipt_no=i, sold_at=at, cashier="seed", total_fen=TOTAL_FEN, change_fen=0)
        return journal.canonical_content(sale, lines, [payment])

    def commit_content(i: int, digest: str, at: str) -> str:
        # the record holds the outcome the row has now (printed), so the seeded file verifies
        return audit.commit_content(i, digest, [payment], dict(state="printed", reason_code="", reason="",
                                                               updated_at=at))

    # The store's own functions build the text of every 1000th sale and check the fast path's (the same
    # text with the number, time and hash put in): the seed hashes exactly what the store would.
    number, when, digest_mark = 987654321, "2999-12-31 23:59:59", "f" * 64
    sale_template = sale_content(number, when).replace(str(number), "{n}").replace(when, "{at}")
    commit_template = (commit_content(number, digest_mark, when).replace(str(number), "{n}")
                       .replace(digest_mark, "{h}").replace(when, "{at}"))
    for start in range(0, n, SEED_BATCH):
        sale_rows, line_rows, payment_rows, outcome_rows, basket_rows, audit_rows = [], [], [], [], [], []
        for i in range(start + 1, min(n, start + SEED_BATCH) + 1):
            at = sold_at(i)
            text = sale_template.replace("{n}", str(i)).replace("{at}", at)
            if i % 1000 == 1:
                assert text == sale_content(i, at), "the seed's sale text differs from the store's"
            digest = chain.chain_hash(prev, text, kind)
            sale_rows.append((i, "1", i, at, "seed", TOTAL_FEN, 0, prev, digest, kind))
            for j, line in enumerate(lines):
                line_rows.append((i, j + 1, product_ids[line["barcode"]], line["barcode"], line["name"], line["unit"],
                                  line["unit_price_fen"], QTYS[j], AMOUNTS[j]))
            payment_rows.append((i, 1, "cash", TOTAL_FEN, "", "ok", ""))
            outcome_rows.append((i, "printed", "", "", at))
            basket_rows.append((i, "1", "sold", "seed", "", at, at, TOTAL_FEN, TOTAL_FEN, 5, "{}", i, at))
            content = commit_template.replace("{n}", str(i)).replace("{h}", digest).replace("{at}", at)
            if i % 1000 == 1:
                assert content == commit_content(i, digest, at), "the seed's audit text differs from the store's"
            audit_digest = chain.chain_hash(audit_prev, content, kind)
            audit_rows.append(("1", i, audit.COMMIT, i, content, audit_prev, audit_digest, kind))
            prev, audit_prev = digest, audit_digest
        con.executemany('INSERT INTO "sale" (id, till_id, receipt_no, sold_at, cashier, total_fen, change_fen, '
                        'prev_hash, hash, hash_kind) VALUES (?,?,?,?,?,?,?,?,?,?)', sale_rows)
        con.executemany('INSERT INTO "line" (sale_id, position, product_id, barcode, name, unit, unit_price_fen, '
                        'qty_milli, amount_fen) VALUES (?,?,?,?,?,?,?,?,?)', line_rows)
        con.executemany('INSERT INTO "payment" (sale_id, position, method, amount_fen, reference, status, reason) '
                        'VALUES (?,?,?,?,?,?,?)', payment_rows)
        con.executemany('INSERT INTO "receipt_outcome" (sale_id, state, reason_code, reason, updated_at) '
                        'VALUES (?,?,?,?,?)', outcome_rows)
        con.executemany('INSERT INTO "open_basket" (id, till_id, state, cashier, note, opened_at, updated_at, '
                        'total_fen, paid_fen, items, content, sale_id, closed_at) '
                        'VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)', basket_rows)
        con.executemany('INSERT INTO "audit" (till_id, seq, kind, ref, content, prev_hash, hash, hash_kind) '
                        'VALUES (?,?,?,?,?,?,?,?)', audit_rows)
    con.execute('INSERT INTO "till_counter" (till_id, last_receipt_no, last_hash, audit_seq, audit_hash) '
                'VALUES (?,?,?,?,?)', ("1", n, prev, n, audit_prev))
    con.execute("COMMIT")
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("ANALYZE")
    con.close()
    os.replace(tmp, path)
