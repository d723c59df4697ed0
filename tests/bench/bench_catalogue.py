"""Catalogue at shop scale: import throughput, barcode lookup and search-as-you-type latency.

Run from the repository root (a script, not a test):

    python tests/bench/bench_catalogue.py [--products 100000] [--lookups 3000] [--rounds 5]

1. A GBK CSV with ``--products`` rows (brand + product + size names, valid
   EAN-13 barcodes, some polyphones) is imported into a fresh SQLite file
   through ``store.catalogue.import_file`` (decode, check, pinyin, batched
   upserts and search keys in short batches): rows/s. A second import of
   the same file measures the unchanged path (every row compared, none written).
2. Barcode lookup: ``store.sales.find_product`` (peewee query), the till's
   ``store.catalogue.find_active`` and ``store.codes.resolve_code`` against
   raw ``sqlite3`` running ``SELECT * FROM product WHERE barcode = ? AND
   active = 1`` on its own connection with the same pragmas, interleaved
   call by call. Target: within 2x of raw.
3. Search as you type: every prefix of typical searches (initials ``kkkl``,
   pinyin ``kekou``, pinyin and initials from a later syllable ``pijiu``,
   ``niunai``, ``kele``, ``nn``, part of a name ``可乐``, code prefixes, misses) through
   ``store.catalogue.search_products`` (limit 30, what the popup asks) and
   through raw ``sqlite3`` issuing the same indexed statements. Target:
   p99 under 16 ms (one frame).
4. Search keys an older version built: how long the till's start-up check
   takes when nothing is stale, and renewing every product's keys
   (``store.catalogue.refresh_keys``, in the background at start).
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from store import catalogue, codes  # noqa: E402
from store.db import SQLITE_PRAGMAS, close_database, open_database  # noqa: E402
from store.pinyin import SUFFIX_MAX, search_key  # noqa: E402
from store.sales import find_product  # noqa: E402
from tests.bench import common  # noqa: E402

BRANDS = ["农夫山泉", "可口可乐", "康师傅", "统一", "娃哈哈", "伊利", "蒙牛", "旺旺", "乐事", "百事",
          "雪碧", "青岛", "重庆", "银鹭", "长城", "好丽友", "达利园", "三只松鼠", "良品铺子", "白象",
          "今麦郎", "加多宝", "王老吉", "元气森林", "农心", "徐福记", "德芙", "奥利奥", "双汇", "金锣"]
ITEMS = ["矿泉水", "绿茶", "红烧牛肉面", "酸奶", "纯牛奶", "薯片", "饼干", "啤酒", "小面", "八宝粥",
         "葡萄酒", "蛋黄派", "面包", "坚果", "方便面", "火腿肠", "可乐", "橙汁", "银行卡套", "长柄伞",
         "苏打水", "巧克力", "口香糖", "果冻", "冰红茶", "凉茶", "气泡水", "辣条", "瓜子", "牛肉干"]
SIZES = ["330ml", "550ml", "1.5L", "500g", "6连包", "整箱", "袋装", "桶装", "家庭装", "迷你装", ""]
UNITS = ["瓶", "袋", "盒", "包", "罐", "个", "箱"]

SEARCHES = {
    "initials kkkl": ["kkkl"],
    "pinyin kekou": ["kekou"],
    "later syllable pijiu/niunai/kele/nn": ["pijiu", "niunai", "kele", "nn"],
    "later syllable, longer than a key": ["shaoniuroumian", "niuroumianxx"],
    "name 可乐/牛奶": ["可乐", "牛奶"],
    "code prefix": ["6901000012"],
    "PLU": ["12"],
    "miss": ["zqxv", "不存在的"],
}


def make_csv(n: int, seed: int = 6) -> bytes:
    rng = random.Random(seed)
    lines = ["条码,品名,售价,单位"]
    for i in range(n):
        barcode = codes.with_check_digit(f"690{i:09d}")
        name = f"{rng.choice(BRANDS)}{rng.choice(ITEMS)} {rng.choice(SIZES)} {i}".strip()
        price = f"{rng.randint(1, 9999) / 100:.2f}"
        lines.append(f"{barcode},{name},{price},{rng.choice(UNITS)}")
    for plu in range(1, 100):
        lines.append(f"{plu},散装{rng.choice(ITEMS)}{plu},{rng.randint(100, 3000) / 100:.2f},斤")
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def stats(samples_ns):
    ms = sorted(s / 1e6 for s in samples_ns)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return statistics.median(ms), p99


def raw_connection(path: str) -> sqlite3.Connection:
    con = sqlite3.connect(path, timeout=10, isolation_level=None)
    for name, value in SQLITE_PRAGMAS:
        con.execute(f"PRAGMA {name} = {value}")
    return con


def _upper(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def raw_search(con: sqlite3.Connection, text: str, limit: int = 30) -> list:
    """The same indexed statements as store.catalogue.search_products, by hand."""
    cols = "p.id, p.barcode, p.name, p.price_fen, p.unit"
    found = {}

    def take(sql, args, spare=1):
        for row in con.execute(sql + " LIMIT ?", args + ((limit - len(found)) * spare,)):
            found.setdefault(row[0], row)
            if len(found) >= limit:
                return True
        return False

    text = text.strip()
    if text.isascii() and text.replace(".", "").replace("-", "").replace("_", "").isalnum():
        for variant in dict.fromkeys((text, text.upper())):
            if take(f"SELECT {cols} FROM product p WHERE p.barcode >= ? AND p.barcode < ? AND p.active = 1 "
                    "ORDER BY p.barcode", (variant, _upper(variant))):
                return list(found.values())
    key = search_key(text)
    if key and not key.isdigit():
        for column in ("initials", "pinyin"):
            if take(f"SELECT {cols} FROM product p WHERE p.{column} >= ? AND p.{column} < ? AND p.active = 1 "
                    f"ORDER BY p.{column}", (key, _upper(key))):
                return list(found.values())
        if take(f"SELECT {cols} FROM product p JOIN product_key k ON k.product_id = p.id WHERE k.kind = 'i' "
                "AND k.key >= ? AND k.key < ? AND p.active = 1 ORDER BY k.kind, k.key, k.product_id",
                (key, _upper(key)), spare=4):
            return list(found.values())
        if len(key) <= SUFFIX_MAX:
            later = ("k.key >= ? AND k.key < ?", (key, _upper(key)))
        else:
            later = ("k.key = ? AND (instr(p.pinyin, ?) > 0 OR instr(p.initials, ?) > 0)",
                     (key[:SUFFIX_MAX], key, key))
        if take(f"SELECT {cols} FROM product p JOIN product_key k ON k.product_id = p.id WHERE k.kind = 's' "
                f"AND {later[0]} AND p.active = 1 ORDER BY k.kind, k.key, k.product_id", later[1], spare=8):
            return list(found.values())
    words = text.lower().split()
    if words:
        longest = max(words, key=len)
        contains = " AND ".join(["instr(lower(p.name), ?) > 0"] * len(words))
        if len(longest) == 1:
            take(f"SELECT {cols} FROM product p JOIN product_key k ON k.product_id = p.id WHERE k.kind = 'n' "
                 f"AND k.key >= ? AND k.key < ? AND p.active = 1 AND {contains} "
                 "ORDER BY k.kind, k.key, k.product_id", (longest, _upper(longest), *words), spare=4)
        else:
            take(f"SELECT {cols} FROM product p JOIN product_key k ON k.product_id = p.id WHERE k.kind = 'n' "
                 f"AND k.key = ? AND p.active = 1 AND {contains} ORDER BY k.kind, k.key, k.product_id",
                 (longest[:2], *words))
    return list(found.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5, help="times each typed search is repeated")
    parser.add_argument("--keep", action="store_true", help="keep the database file (printed at the end)")
    parser.add_argument("--figures", default="", help="write the figures as JSON here (run_all.py)")
    args = parser.parse_args()
    figures = []

    folder = Path(tempfile.mkdtemp(prefix="chaoying-bench-catalogue-"))
    path = folder / "shop.sqlite3"
    data = make_csv(args.products)
    rows = args.products + 99
    print(f"catalogue benchmark: {rows:,} products, SQLite {sqlite3.sqlite_version}, "
          f"Python {sys.version.split()[0]}, file {len(data) / 1e6:.1f} MB GBK")
    open_database("sqlite:///" + str(path))

    table = []
    start = time.perf_counter()
    result = catalogue.import_file(data, changed_by="bench")
    seconds = time.perf_counter() - start
    assert result.imported and result.added == rows, result
    table.append(("import, new products", f"{seconds:.2f} s", f"{rows / seconds:,.0f} rows/s", "", ""))
    start = time.perf_counter()
    again = catalogue.import_file(data, changed_by="bench")
    seconds = time.perf_counter() - start
    assert again.unchanged == rows  # nothing written
    table.append(("import, unchanged file", f"{seconds:.2f} s", f"{rows / seconds:,.0f} rows/s", "", ""))

    # ---- barcode lookup
    con = raw_connection(str(path))
    rng = random.Random(1)
    codes_to_find = [codes.with_check_digit(f"690{rng.randrange(args.products):09d}") for _ in range(args.lookups)]
    layouts = [codes.ScaleLayout()]
    contenders = {
        "sales.find_product (peewee)": lambda c: find_product(c),
        "catalogue.find_active": lambda c: catalogue.find_active(c),
        "codes.resolve_code(find_active)": lambda c: codes.resolve_code(c, layouts, find=catalogue.find_active),
    }
    samples = {name: [] for name in contenders}
    raw_samples = []
    raw_sql = "SELECT * FROM product WHERE barcode = ? AND active = 1"
    for code in codes_to_find[:200]:  # warm both caches
        con.execute(raw_sql, (code,)).fetchone()
        find_product(code)
    for code in codes_to_find:
        t0 = time.perf_counter_ns()
        row = con.execute(raw_sql, (code,)).fetchone()
        raw_samples.append(time.perf_counter_ns() - t0)
        assert row is not None
        for name, call in contenders.items():
            t0 = time.perf_counter_ns()
            found = call(code)
            samples[name].append(time.perf_counter_ns() - t0)
            assert found is not None
    raw_median, raw_p99 = stats(raw_samples)
    table.append(("lookup: raw sqlite3", f"{raw_median:.3f}", f"{raw_p99:.3f}", "1.00x", ""))
    for name, values in samples.items():
        # interleaved call by call: each lookup against the raw one just before it (the till's path is
        # judged; peewee's generic query is shown for what the hand-written one saves)
        figures.append(common.Figure.pair(f"barcode lookup, {name}, {rows:,} products",
                                          common.PairStats.of(values, raw_samples),
                                          0 if "peewee" in name else 2.0, unit="µs", scale=1e-3,
                                          floor_name="raw sqlite3"))
        median, p99 = stats(values)
        table.append((f"lookup: {name}", f"{median:.3f}", f"{p99:.3f}", f"{median / raw_median:.2f}x",
                      "ok" if median <= 2 * raw_median else "over 2x"))

    # ---- search as you type
    all_store, all_raw = [], []
    for label, words in SEARCHES.items():
        store_ns, raw_ns = [], []
        for word in words:
            for end in range(1, len(word) + 1):
                typed = word[:end]
                for _ in range(args.rounds):
                    t0 = time.perf_counter_ns()
                    ours = catalogue.search_products(typed, limit=30)
                    store_ns.append(time.perf_counter_ns() - t0)
                    t0 = time.perf_counter_ns()
                    theirs = raw_search(con, typed)
                    raw_ns.append(time.perf_counter_ns() - t0)
                    assert [p["id"] for p in ours] == [r[0] for r in theirs], (typed, ours[:3], theirs[:3])
        all_store += store_ns
        all_raw += raw_ns
        median, p99 = stats(store_ns)
        raw_median, raw_p99 = stats(raw_ns)
        table.append((f"search: {label}", f"{median:.3f}", f"{p99:.3f}", f"{median / raw_median:.2f}x",
                      f"raw {raw_median:.3f} / {raw_p99:.3f}"))
    median, p99 = stats(all_store)
    raw_median, raw_p99 = stats(all_raw)
    typing = common.PairStats.of(all_store, all_raw)
    figures.append(common.Figure(f"search as you type, every keystroke, {rows:,} products",
                                 f"p99 {p99:.2f} ms", f"p99 {raw_p99:.2f} ms (raw)", f"{typing.ratio:.2f}x",
                                 typing.spread, "p99 < 16 ms", p99 < 16))
    table.append(("search: every keystroke", f"{median:.3f}", f"{p99:.3f}", f"{median / raw_median:.2f}x",
                  ("ok" if p99 < 16 else "OVER 16 ms") + f", raw {raw_median:.3f} / {raw_p99:.3f}"))
    found = [p["name"] for p in catalogue.search_products("kkkl", limit=3)]
    found_later = [p["name"] for p in catalogue.search_products("pijiu", limit=3)]

    # ---- keys an older version built
    start = time.perf_counter()
    assert catalogue.refresh_keys() == 0
    table.append(("keys: start-up check, none stale", f"{(time.perf_counter() - start) * 1000:.1f} ms", "", "", ""))
    con.execute("DELETE FROM product_key WHERE kind IN ('s', 'v')")
    start = time.perf_counter()
    assert catalogue.refresh_keys() == rows
    seconds = time.perf_counter() - start
    table.append(("keys: renew all (older version)", f"{seconds:.2f} s", f"{rows / seconds:,.0f} rows/s", "", ""))
    con.close()
    close_database()

    headers = ("what", "median ms", "p99 ms", "vs raw", "note")
    widths = [max(len(str(r[i])) for r in table + [headers]) for i in range(5)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    for row in table:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    print(f"kkkl finds: {', '.join(found)}")
    print(f"pijiu finds: {', '.join(found_later)}")
    size = path.stat().st_size / 1e6
    if args.keep:
        print(f"(import rows: time in s and rows/s; database {size:.1f} MB kept at {path})")
    else:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        print(f"(import rows: time in s and rows/s; database was {size:.1f} MB)")
    common.print_table(f"Catalogue: median of per-call ratios; {common.machine()}", figures)
    common.write_figures(args.figures, figures)
    return 0 if common.all_met(figures) else 1


if __name__ == "__main__":
    sys.exit(common.run_main(main))
