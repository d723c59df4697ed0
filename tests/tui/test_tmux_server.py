"""Issue 20's Done-when through the real `chaoying` binary: two tills in real terminals (tmux, 80x24) and the
shop's PostgreSQL server, which the test stops (`pg_ctl stop -m immediate`) and starts again.

Each till is `chaoying --config tillN.toml run` on its own SQLite file with a virtual printer
(`chaoying printer simulate` on a pty); the server is named in `[server] url`. `chaoying init` makes the
server's schema and each till; products are imported on the server and come down to both tills; a held basket
crosses tills; till 2 refunds till 1's receipt; till 1 sells with the server gone and catches up by itself.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, List, Tuple

import pytest

from tests.tui.test_tmux import HAVE_TMUX, Tmux, wait_for_file

CHAOYING = Path(sys.executable).parent / "chaoying"
WORK_TREE = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.tmux, pytest.mark.postgres, pytest.mark.slow,
              pytest.mark.skipif(not HAVE_TMUX, reason="tmux is not installed")]

PRODUCTS = ("barcode,name,price,unit\n"
            "6901234567892,可口可乐 330ml,3.00,瓶\n"
            "6902538005141,农夫山泉 550ml,2.00,瓶\n"
            "6920202888883,旺旺雪饼 84g,6.50,包\n")
COLA, WATER, CRACKERS = "6901234567892", "6902538005141", "6920202888883"
OFFLINE_SALES = 5


class Shop:
    """The server, an office settings file (for the back-office commands) and two tills, each with its printer."""

    def __init__(self, root: Path, pg: Any, url: str, tmux: Tmux) -> None:
        self.root = root
        self.pg = pg
        self.url = url
        self.tmux = tmux
        self.printers: List[subprocess.Popen] = []

    def folder(self, till: str) -> Path:
        return self.root / f"till{till}"

    def config(self, till: str) -> Path:
        return self.folder(till) / "chaoying.toml"

    def database(self, till: str) -> Path:
        return self.folder(till) / "chaoying.sqlite3"

    def cli(self, *args: str, config: Path, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(CHAOYING), "--config", str(config), *args], capture_output=True, text=True,
                                env=self.tmux.env, timeout=60, stdin=subprocess.DEVNULL)
        if check:
            assert result.returncode == 0, f"chaoying {' '.join(args)}: {result.stdout}{result.stderr}"
        return result

    def write_settings(self, folder: Path, till: str, language: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        config = folder / "chaoying.toml"
        config.write_text(
            f'[till]\nid = "{till}"\n'
            f'[ui]\nlanguage = "{language}"\n'
            f'[database]\nurl = "sqlite:///{folder / "chaoying.sqlite3"}"\n'
            f'[server]\nurl = "{self.url}"\n'
            f'[printer]\nport = "{folder / "printer"}"\nwidth = 80\nconfirm = "epson"\n'
            f'[backup]\ndir = "{folder / "backups"}"\n'
            '[shift]\nask_float = false\n'
            '[selling]\nrefund_manager_pin = false\n', encoding="utf-8")
        return config

    def start_printer(self, till: str) -> None:
        folder = self.folder(till)
        (folder / "paper").mkdir(exist_ok=True)
        printer = subprocess.Popen([str(CHAOYING), "printer", "simulate", "--link", str(folder / "printer"),
                                    "--paper", str(folder / "paper")], env=self.tmux.env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=open(folder / "printer.log", "w"))
        self.printers.append(printer)
        deadline = time.monotonic() + 15
        while not (folder / "printer").exists():
            assert printer.poll() is None, (folder / "printer.log").read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the virtual printer never made its link"
            time.sleep(0.05)

    def start_till(self, till: str) -> None:
        logs = self.folder(till) / "logs"
        self.tmux.start(f"till{till}", ["env", f"CHAOYING_LOG_DIR={logs}", str(CHAOYING), "--config",
                                        str(self.config(till)), "run"])

    def log(self, till: str) -> str:
        path = self.folder(till) / "logs" / "chaoying.log"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def stop(self) -> None:
        for printer in self.printers:
            printer.send_signal(signal.SIGTERM)
        for printer in self.printers:
            try:
                printer.wait(10)
            except subprocess.TimeoutExpired:
                printer.kill()
                printer.wait(5)


@pytest.fixture
def shop(tmp_path) -> Iterator[Shop]:
    from tests.services.syncnet import start_server

    env = dict(os.environ)
    for name in ("DATABASE_URL", "CHAOYING_CONFIG", "CHAOYING_LOG_DIR"):
        env.pop(name, None)
    env["PYTHONPATH"] = str(WORK_TREE)  # this work tree's code, not the one the venv was installed from
    env["TERM"] = "xterm-256color"
    env["LANG"] = "C.UTF-8"
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["CHAOYING_LOG_DIR"] = str(tmp_path / "logs")  # the back-office commands'; each till has its own
    pg = start_server()
    tmux = Tmux(f"chaoying-srv-{os.getpid()}-{tmp_path.name}", env)
    name = "shop_" + uuid.uuid4().hex[:10]
    pg.create_database(name)
    made = Shop(tmp_path, pg, pg.tcp_url(name), tmux)
    try:
        yield made
    finally:
        tmux.run("kill-server")
        made.stop()
        pg.stop()


# ---------------------------------------------------------------- reading the server and the tills

def server_rows(url: str, sql: str, *params: Any) -> List[Tuple[Any, ...]]:
    import psycopg2

    conn = psycopg2.connect(url, connect_timeout=3)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())
    finally:
        conn.close()


def server_seqs(url: str, till: str) -> List[int]:
    """The audit seqs of ``till`` on the server ([] while it cannot be reached)."""
    import psycopg2

    try:
        return [row[0] for row in server_rows(url, "SELECT seq FROM audit WHERE till_id = %s ORDER BY seq", till)]
    except psycopg2.Error:
        return []


def local_rows(database: Path, sql: str) -> List[Tuple[Any, ...]]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as con:
        return con.execute(sql).fetchall()


def local_seqs(shop: Shop, till: str) -> List[int]:
    return [row[0] for row in local_rows(shop.database(till), f"SELECT seq FROM audit WHERE till_id = '{till}' "
                                                              "ORDER BY seq")]


def deadline_for(what: str, predicate: Callable[[], Any], timeout: float = 30.0, log: Callable[[], str] = str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}\n{log()}")
        time.sleep(0.2)


def all_sent(shop: Shop, till: str) -> bool:
    return server_seqs(shop.url, till) == local_seqs(shop, till) != []


# ---------------------------------------------------------------- the till's keys

def printed(number: str) -> Callable[[str], bool]:
    return lambda s: number in s and ("已打印" in s or ("printed" in s and "not printed" not in s))


def sell(shop: Shop, name: str, number: str, *codes: str) -> str:
    """Scan ``codes``, pay in cash (F12, Enter: the amount due) and wait for receipt ``number`` printed."""
    tmux = shop.tmux
    for code in codes:
        tmux.keys(name, code, "Enter")
    tmux.wait_until(name, lambda s: "合计" in s or "Total" in s, "the basket")
    tmux.keys(name, "F12")
    tmux.wait_until(name, lambda s: "还差" in s or "To pay" in s, "the tender")
    tmux.keys(name, "Enter")
    return tmux.wait_until(name, printed(number), f"receipt {number} printed")


def receipt_numbers(shop: Shop, till: str) -> List[str]:
    """The till's receipt numbers as printed (till-number), in the order it sold them."""
    return [f"{till}-{row[0]:06d}" for row in local_rows(shop.database(till), "SELECT receipt_no FROM sale WHERE "
                                                                              f"till_id = '{till}' ORDER BY id")]


def test_two_tills_and_the_server_stopped_and_started_in_real_terminals(shop):
    office = shop.write_settings(shop.root / "office", "9", "zh")
    made = shop.cli("init", config=office)
    assert "server: postgresql://postgres:***@127.0.0.1" in made.stdout  # the schema is made; the URL redacted
    assert shop.pg.password not in made.stdout + made.stderr  # the URL is always redacted
    key = (shop.root / "office" / "journal.key").read_bytes()  # the shop's journal key, made by that init
    for till, language in (("1", "zh"), ("2", "en")):
        shop.write_settings(shop.folder(till), till, language)
        (shop.folder(till) / "journal.key").write_bytes(key)  # copied to each till first: one key for the shop
        os.chmod(shop.folder(till) / "journal.key", 0o600)
        assert "(kept)" in shop.cli("init", config=shop.config(till)).stdout
    csv = shop.root / "products.csv"
    csv.write_text(PRODUCTS, encoding="utf-8")
    imported = shop.cli("products", "import", "--server", shop.url, str(csv), config=office)
    assert "3 added" in imported.stdout, imported.stdout

    for till in ("1", "2"):
        shop.start_printer(till)
        shop.start_till(till)
    tmux = shop.tmux
    tmux.wait_for("till1", "合计")
    tmux.wait_for("till2", "Total")
    tmux.wait_for("till1", "在线", timeout=30)
    tmux.wait_for("till2", "online", timeout=30)

    # The products came down to both tills: each scans one and sees it in its basket.
    tmux.keys("till1", COLA, "Enter")
    tmux.wait_for("till1", "可口可乐")
    tmux.keys("till2", WATER, "Enter")
    tmux.wait_for("till2", "农夫山泉")

    # Till 1 holds its basket; till 2 sells its water, lists till 1's held basket and takes it back, sells it.
    tmux.keys("till1", "C-g")
    tmux.wait_for("till1", "挂单")
    tmux.keys("till1", "Enter")  # no note
    tmux.wait_until("till1", lambda s: "可口可乐" not in s, "the basket emptied by the hold")
    tmux.keys("till2", "F12")
    tmux.wait_for("till2", "To pay")
    tmux.keys("till2", "Enter")
    tmux.wait_until("till2", printed("2-000001"), "till 2's first sale printed")

    def held_listed() -> bool:
        tmux.keys("till2", "C-y")
        screen = tmux.wait_until("till2", lambda s: "Held" in s or "held" in s, "the held baskets")
        if "3.00" in screen and "1" in screen:
            return True
        tmux.keys("till2", "Escape")
        return False

    deadline_for("till 1's held basket listed on till 2", held_listed, log=lambda: tmux.screen("till2"))
    tmux.keys("till2", "Enter")
    tmux.wait_for("till2", "可口可乐")
    sell(shop, "till2", "2-000002")
    assert receipt_numbers(shop, "2") == ["2-000001", "2-000002"]

    # Till 1 sells a receipt; once it is on the server, till 2 refunds it (F9, its number, Enter, T).
    sell(shop, "till1", "1-000001", WATER, CRACKERS)
    assert receipt_numbers(shop, "1") == ["1-000001"]
    deadline_for("till 1's sale on the server", lambda: all_sent(shop, "1"), log=lambda: shop.log("1"))
    tmux.keys("till2", "F9")
    tmux.wait_for("till2", "Receipts")
    tmux.keys("till2", "1-000001", "Enter", "t")
    tmux.wait_for("till2", "旺旺雪饼")  # the refund screen lists till 1's lines
    tmux.keys("till2", "1", "Enter")
    tmux.keys("till2", "F12")
    tmux.wait_for("till2", "2-000003")  # "Refund 2-000003 saved": till 2's own numbering
    tmux.keys("till2", "Escape")
    tmux.wait_for("till2", "Total")

    # The server crashes: till 1 sells on, each sale printed, and says it is offline with records to send.
    deadline_for("till 2's refund on the server", lambda: all_sent(shop, "2"), log=lambda: shop.log("2"))
    shop.pg.stop(mode="immediate")
    paper_before = len(list((shop.folder("1") / "paper").glob("*.txt")))
    for number in range(2, 2 + OFFLINE_SALES):
        sell(shop, "till1", f"1-{number:06d}", COLA)
        wait_for_file(shop.folder("1") / "paper" / f"{paper_before + number - 1:04d}.txt", f"1-{number:06d}")
    screen = tmux.wait_until("till1", lambda s: "离线自" in s and "待发送" in s, "the offline status", timeout=30)
    waiting = int(screen.split("待发送", 1)[1].split("条", 1)[0].strip())
    assert waiting >= OFFLINE_SALES

    # The server starts again: within 30 s the till says online and the server holds every record once.
    shop.pg.start()
    tmux.wait_until("till1", lambda s: "在线" in s and "待发送" not in s and "离线" not in s, "online again",
                    timeout=30)
    for till in ("1", "2"):
        deadline_for(f"till {till} all on the server", lambda t=till: all_sent(shop, t),
                     log=lambda t=till: shop.log(t))
        seqs = server_seqs(shop.url, till)
        assert len(seqs) == len(set(seqs)) == seqs[-1]  # every record once, from 1 up
        numbers = [row[0] for row in server_rows(shop.url, "SELECT receipt_no FROM sale WHERE till_id = %s "
                                                 "ORDER BY receipt_no", till)]
        assert numbers == list(range(1, len(numbers) + 1))  # gapless, each once
        assert [f"{till}-{n:06d}" for n in numbers] == receipt_numbers(shop, till)
    assert len(receipt_numbers(shop, "1")) == 1 + OFFLINE_SALES

    verified = shop.cli("journal", "verify", "--full", "--server", shop.url, config=office)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    for till in ("1", "2"):
        local = shop.cli("journal", "verify", "--full", config=shop.config(till))
        assert local.returncode == 0, local.stdout + local.stderr

    for till in ("1", "2"):
        tmux.keys(f"till{till}", "C-q")
    deadline_for("both tills quit", lambda: "till" not in tmux.run("list-sessions"), timeout=15)
    for till in ("1", "2"):
        log = shop.log(till)
        assert "Traceback" not in log, log
        assert shop.pg.password not in log
