"""Demo mode: a throw-away shop with a catalogue and a virtual printer on a pty.

Everything lives in one folder (a fresh temp dir unless ``--dir`` names one,
which is then kept and reused): chaoying.sqlite3, the printer link, the
printer state file, paper/NNNN.txt and chaoying.log.
"""
from __future__ import annotations

import dataclasses
import logging
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional

log = logging.getLogger("chaoying.tui.demo")

# barcode, name (Chinese and English), price in fen, unit
CATALOGUE = (
    ("6901234567892", "可口可乐 Coca-Cola 330ml", 300, "瓶"),
    ("6902538005141", "农夫山泉 Spring Water 550ml", 200, "瓶"),
    ("6901028075831", "康师傅红烧牛肉面 Beef Noodles", 450, "袋"),
    ("6920202888883", "旺旺雪饼 Rice Crackers 84g", 650, "包"),
    ("6903148042441", "蒙牛纯牛奶 Mengniu Milk 250ml", 350, "盒"),
    ("6921168509256", "青岛啤酒 Tsingtao Beer 500ml", 600, "罐"),
    ("6954767410388", "奥利奥 Oreo 97g", 890, "包"),
    ("6901939621301", "双汇火腿肠 Ham Sausage", 150, "根"),
    ("6925303721367", "统一冰红茶 Iced Tea 500ml", 300, "瓶"),
    ("6917878007441", "雀巢咖啡 Nescafe 1+2", 1800, "盒"),
    ("1", "苹果 Apple", 890, "斤"),
    ("2", "香蕉 Banana", 450, "斤"),
    ("3", "鸡蛋 Eggs", 650, "斤"),
    ("4", "大白菜 Chinese Cabbage", 180, "斤"),
    ("5", "西红柿 Tomato", 560, "斤"),
    ("6", "土豆 Potato", 250, "斤"),
    ("7", "馒头 Steamed Bun", 100, "个"),
    ("8", "包子 Baozi", 200, "个"),
    ("9", "豆浆 Soy Milk", 300, "杯"),
    ("10", "油条 Youtiao", 250, "根"),
    ("11", "大米 Rice 5kg", 3990, "袋"),
    ("12", "花生油 Peanut Oil 1.8L", 4590, "桶"),
    ("13", "酱油 Soy Sauce 500ml", 890, "瓶"),
    ("14", "白糖 Sugar 400g", 590, "包"),
    ("15", "纸巾 Tissues", 990, "提"),
    ("16", "牙膏 Toothpaste", 1290, "支"),
    ("17", "电池 AA Batteries", 1500, "板"),
    ("18", "塑料袋 Plastic Bag", 20, "个"),
    ("19", "口香糖 Chewing Gum", 1000, "瓶"),
    ("20", "棒棒糖 Lollipop", 50, "支"),
)

# code, name, PIN of the demo's cashier (`chaoying demo` only: the tests' demo shop sells without sign-in)
CASHIER = ("01", "小王", "1234")
# ... and its manager: refunds, voids, price changes, large discounts, paid out, the owner's view (Ctrl+W)
MANAGER = ("09", "店长", "999999")  # six digits: [signin] manager_min_pin_length

FAULT_STATES = {
    "ok": "ok",
    "paper_out": "paper-out",
    "near_end": "near-end",
    "cover_open": "cover-open",
    "offline": "offline",
    "silent": "silent",
    "no_confirm": "no-confirm",
    "stall": "stall",
}


@dataclasses.dataclass
class Demo:
    """The demo's folder, its virtual printer and the fault it is in."""

    folder: Path
    paper_dir: Path
    printer_link: Path
    state_file: Path
    printer: Any = None  # printing.virtual.VirtualPrinter
    fault: str = "ok"
    display: Any = None  # printing.customer_display.VirtualDisplay, when the demo has a customer display
    simulator: Any = None  # tui.services.payments.simulator.Simulator: the demo's WeChat Pay and Alipay
    cashier: bool = False  # the demo cashier (CASHIER) is in the shop: the sign-in says its code and PIN
    manager: bool = False  # the demo manager (MANAGER) is in the shop: the sign-in says its code and PIN too

    def set_fault(self, name: str) -> None:
        self.printer.set_state(FAULT_STATES[name])
        self.fault = name

    def stop(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()
            self.simulator = None
        if self.display is not None:
            self.display.stop()
            self.display = None
        if self.printer is not None:
            self.printer.stop()
            self.printer = None


def demo_settings(base: Any, folder: Path, display: str = "none") -> Any:
    """The settings of the demo: the user's shop and UI, our database, printer and customer display."""
    printer = dataclasses.replace(base.printer, port=str(folder / "printer"), width=80, confirm="epson",
                                  baudrate=9600, rtscts=False, xonxoff=False)
    shop, selling, shift = base.shop, base.selling, base.shift
    if base.path is None or not Path(base.path).exists():
        shop = dataclasses.replace(shop, name="超赢便利店 Chaoying Demo")
        # the demo shows 抹零 (Ctrl+R on the tender) and 无单退货 (Ctrl+T, listed in F1) at work
        selling = dataclasses.replace(selling, rounding="jiao", refund_without_receipt=True)
        shift = dataclasses.replace(shift, ask_float=False)  # the demo sells at once; F11 S opens a shift
    database = dataclasses.replace(base.database, url="sqlite:///" + str(folder / "chaoying.sqlite3"))
    shown = dataclasses.replace(base.display, kind=display, port=str(folder / "display") if display != "none" else "")
    backup = dataclasses.replace(base.backup, dir=str(folder / "backups"), second_dir="")  # the demo's own
    journal = dataclasses.replace(base.journal, key_file="")  # a throw-away shop: its journal has no key
    return dataclasses.replace(base, database=database, printer=printer, spare_printer=None, shop=shop,
                               display=shown, backup=backup, selling=selling, shift=shift, journal=journal)


def start_payments(settings: Any, folder: Path) -> "tuple[Any, Any]":
    """The payment simulator on this machine, its demo key files (0600) in the demo's folder, and the settings
    with [payments.wechat] and [payments.alipay] pointing at it: the demo codes (README) pay with it."""
    from tui.services.payments import sim_alipay
    from tui.services.payments.sim_wechat import DEMO_APPID, DEMO_MCH_ID
    from tui.services.payments.simulator import Simulator, demo_keys

    keys = demo_keys(folder / "payment-keys")
    simulator = Simulator(wechat_key=keys.wechat_api_key, alipay_keys=keys.alipay)
    payments = settings.payments
    wechat = dataclasses.replace(payments.wechat, base_url=simulator.url, appid=DEMO_APPID, mch_id=DEMO_MCH_ID,
                                 api_key_file=str(keys.wechat_api_key_file), cert_file="", cert_key_file="")
    alipay = dataclasses.replace(payments.alipay, gateway=simulator.url + "/gateway.do",
                                 app_id=sim_alipay.DEMO_APP_ID,
                                 private_key_file=str(keys.alipay["app_private_key"]),
                                 alipay_public_key_file=str(keys.alipay["alipay_public_key"]))
    payments = dataclasses.replace(payments, wechat=wechat, alipay=alipay)
    return dataclasses.replace(settings, payments=payments), simulator


def seed_catalogue(till_id: str = "1") -> int:
    """Add the demo products that are not there yet; return how many were added."""
    from store.catalogue import add_product
    from store.models import Product

    known = {row.barcode for row in Product.select(Product.barcode)}
    added = [item for item in CATALOGUE if item[0] not in known]
    for barcode, name, price_fen, unit in added:
        add_product(barcode, name, price_fen, unit)
    seed_stock(added, till_id)
    return len(added)


DEMO_STOCK = "50"  # of each demo product, received when it is added (pieces, or its weighed unit)


def seed_stock(products: Any, till_id: str) -> None:
    """An opening delivery of the products just added, at 60% of their price: a demo sells from stock on hand
    (else every line would be marked as sold with none on hand)."""
    from store import stock
    from store.money import format_yuan
    from store.stock_files import delivery_row

    rows = [delivery_row(barcode, DEMO_STOCK, format_yuan(price_fen * 6 // 10))
            for barcode, _name, price_fen, _unit in products]
    if rows:
        stock.receive(rows, till_id, ref="demo")


def seed_cashiers() -> "tuple[bool, bool]":
    """Add the demo cashier and manager unless the shop has cashiers already; whether CASHIER and MANAGER
    can sign in."""
    from store.cashiers import add_cashier
    from store.models import Cashier

    if not Cashier.select().exists():
        add_cashier(*CASHIER)
        add_cashier(*MANAGER, manager=True)

    def active(code: str) -> "list[bool]":
        return [row.manager for row in Cashier.select().where((Cashier.code == code) & (Cashier.active == True))]  # noqa: E712

    return bool(active(CASHIER[0])), any(active(MANAGER[0]))


def start_demo(base_settings: Any, folder: Optional[Path] = None,
               on_open: Optional[Callable[[Any], None]] = None, display: str = "none",
               cashier: bool = False, payments: bool = False) -> "tuple[Any, Demo]":
    """Create (or reuse) the demo folder, open and seed its database, start its printer (and virtual display).

    ``display``: the kind of virtual customer display (``chaoying demo`` uses a VFD), "none" for none.

    ``on_open(settings)`` runs once the database is open, before anything is
    written or the printer starts (the CLI takes the till lock there).
    ``cashier`` adds the demo cashier and manager (``chaoying demo``): the till then starts on a sign-in.
    ``payments`` starts the payment simulator and points [payments.*] at it (``chaoying demo``).
    """
    from printing.virtual import VirtualPrinter
    from store.db import open_database

    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="chaoying-demo-"))
    folder = Path(folder).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(base_settings, folder, display)
    open_database(settings.database.url)
    if on_open is not None:
        on_open(settings)
    seed_catalogue(settings.till.id)
    cashier, manager = seed_cashiers() if cashier else (False, False)
    demo = Demo(folder=folder, paper_dir=folder / "paper", printer_link=folder / "printer",
                state_file=folder / "printer-state", cashier=cashier, manager=manager)
    demo.printer = VirtualPrinter(demo.printer_link, demo.paper_dir, state_file=demo.state_file, width=80)
    demo.printer.start()
    if display != "none":
        from printing.customer_display import VirtualDisplay

        demo.display = VirtualDisplay(settings.display.port, display, settings.display.encoding).start()
    if payments:
        settings, demo.simulator = start_payments(settings, folder)
    state = demo.printer.state
    demo.fault = next((name for name, word in FAULT_STATES.items() if word == state), "ok")
    log.info("demo in %s", folder)
    return settings, demo
