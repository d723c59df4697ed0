"""Settings: one TOML file, read and checked once, handed out as typed, frozen sections.

Every command loads them with ``load(--config value)``; code reads
``settings.printer.width`` or ``settings.receipt.footer``, never a dict.
Lookup order: ``--config PATH``, then ``CHAOYING_CONFIG``, then
``platformdirs.user_config_dir("chaoying")/chaoying.toml``. A file named by
``--config`` or ``CHAOYING_CONFIG`` must exist; the default file may be
missing (all defaults). ``DATABASE_URL`` overrides ``[database] url``; an
empty url means a SQLite file in ``platformdirs.user_data_dir("chaoying")``.
Mistakes are one sentence naming the file, the line and the key.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from printing import config as printer_config
from printing.config import BAUDRATES, PrinterConfig

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

APP_NAME = "chaoying"
CONFIG_FILE_NAME = "chaoying.toml"

# A checker returns an error phrase ("must be ...") or None when the value is fine.
Checker = Callable[[Any], Optional[str]]


class SettingsError(Exception):
    """A settings file that cannot be used; str() is one sentence naming file, line and key."""

    def __init__(self, message: str, path: Optional[Path] = None,
                 line: Optional[int] = None, key: str = ""):
        super().__init__(message)
        self.path = path
        self.line = line
        self.key = key


# ---------------------------------------------------------------- checkers

def _string(value: Any) -> Optional[str]:
    return None if isinstance(value, str) else "must be text in quotes"


def _boolean(value: Any) -> Optional[str]:
    return None if isinstance(value, bool) else "must be true or false"


def _range(low: int, high: Optional[int] = None) -> Checker:
    def check(value: Any) -> Optional[str]:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        if high is None and value < low:
            return f"must be {low} or more"
        if high is not None and not low <= value <= high:
            return f"must be from {low} to {high}"
        return None
    return check


def _choice(*choices: str) -> Checker:
    def check(value: Any) -> Optional[str]:
        if not isinstance(value, str):
            return "must be text in quotes"
        return None if value in choices else "must be one of " + ", ".join(_show(c) for c in choices)
    return check


def _till_id(value: Any) -> Optional[str]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,8}", value):
        return "must be 1 to 8 letters, digits, '-' or '_'"
    return None


def _database_url(value: Any) -> Optional[str]:
    if not isinstance(value, str):
        return "must be text in quotes"
    if value and "://" not in value:
        return "must be empty or a URL such as \"sqlite:////path/shop.db\" or \"postgresql://user@host/db\""
    return None


def _server_url(value: Any) -> Optional[str]:
    if not isinstance(value, str):
        return "must be text in quotes"
    if value and not re.match(r"postgres(ql)?://", value):
        return "must be empty or a PostgreSQL URL such as \"postgresql://user@host/shop\""
    return None


def _shop_code(value: Any) -> Optional[str]:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{0,16}", value):
        return "must be empty or 1 to 16 letters, digits, '-' or '_'"
    return None


def _scale_prefixes(value: Any) -> Optional[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(p, str) for p in value):
        return "must be a list of two-digit prefixes in quotes, such as [\"20\", \"21\"]"
    if any(not re.fullmatch(r"2[0-9]", p) for p in value):
        return "must only hold the in-store prefixes \"20\" to \"29\""
    return None


def _setting(default: Any, check: Checker, note: str) -> Any:
    """A settings field: its default, its checker and the note the default file prints beside it."""
    return field(default=default, metadata={"check": check, "note": note})


# ---------------------------------------------------------------- the sections


class Section:
    """What every section compares, hashes and shows itself by: its fields, as a dataclass's own methods do.

    One copy for all of them (each is ``@dataclass(frozen=True, eq=False, repr=False)``): Python 3.11 compiles
    every method it generates for every class at import, and these three per section cost the till ~3 ms of its
    start-up to the first frame (tests/bench/bench_startup.py)."""

    __slots__ = ()

    def _values(self) -> Tuple[Any, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))  # type: ignore[arg-type]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))  # type: ignore[arg-type]
        return f"{type(self).__qualname__}({shown})"


@dataclass(frozen=True, eq=False, repr=False)
class ShopSettings(Section):
    """[shop]: who the shop is, printed at the top of every receipt."""

    name: str = _setting("超赢小店", _string, "店名 / shop name")
    address: str = _setting("", _string, "地址 / address")
    phone: str = _setting("", _string, "电话 / phone")
    tax_id: str = _setting("", _string, "税号 / tax id")


@dataclass(frozen=True, eq=False, repr=False)
class TillSettings(Section):
    """[till]: this register; receipt numbers are gapless per till id."""

    id: str = _setting("1", _till_id, "收银台编号 / till id")
    # == store.tills.STALE_AFTER_S (a test keeps them equal; importing store here would slow every command)
    lock_timeout: int = _setting(30, _range(5, 3600),
                                 "秒：无响应的收银台多久后可被接管 / seconds before a silent till can be taken over")
    shop: str = _setting("", _shop_code, "门店代码（多店共用服务器时）/ shop code, when several shops share a server")


@dataclass(frozen=True, eq=False, repr=False)
class UiSettings(Section):
    """[ui]: the screen's language and theme (``auto`` = English and linux16 on the Linux console)."""

    language: str = _setting("auto", _choice("auto", "zh", "en"),
                             "界面语言 / language: auto, zh, en (auto = English on the Linux console)")
    theme: str = _setting("auto", _string, "主题 / theme: auto, dark, light, high-contrast, linux16 "
                                           "(auto = linux16 on the Linux console)")


@dataclass(frozen=True, eq=False, repr=False)
class DatabaseSettings(Section):
    """[database]: where sales are stored; ``url`` is resolved (DATABASE_URL, default SQLite file)."""

    url: str = _setting("", _database_url, "空 = 默认 SQLite 文件 / empty = the default SQLite file")


@dataclass(frozen=True, eq=False, repr=False)
class ServerSettings(Section):
    """[server]: the shop's PostgreSQL server that every till syncs to; empty = this till stands alone."""

    url: str = _setting("", _server_url, "空 = 无服务器 / empty = no server; "
                                         "如 / such as \"postgresql://chaoying:secret@192.168.1.10/shop\"")
    warn_minutes: int = _setting(15, _range(1, 24 * 60),
                                 "分钟：收银台多久未同步时提醒 / minutes before a till that has not synced is listed")


@dataclass(frozen=True, eq=False, repr=False)
class ScaleSettings(Section):
    """[scale]: label scale EAN-13 codes: prefix, PLU, [price check digit], value, check digit."""

    prefixes: Tuple[str, ...] = _setting(tuple(str(n) for n in range(20, 30)), _scale_prefixes,
                                         "条码前缀 / prefixes; [] = no scale")
    plu_digits: int = _setting(5, _range(1, 8), "商品码位数 / PLU digits")
    value: str = _setting("price", _choice("price", "weight"),
                          "price = 金额(分) / price in fen; weight = 重量(克) / grams")
    value_digits: int = _setting(5, _range(1, 8), "金额或重量位数 / value digits")
    price_check: bool = _setting(False, _boolean, "价格校验位 / price check digit")


@dataclass(frozen=True, eq=False, repr=False)
class ReceiptSettings(Section):
    """[receipt]: the text around every receipt, and its language (whatever the screen's)."""

    header: str = _setting("", _string, "票头 / header text")
    footer: str = _setting("谢谢惠顾，欢迎再次光临", _string, "票尾 / footer text")
    language: str = _setting("zh", _choice("zh", "en"), "小票语言 / receipt language: zh, en")


@dataclass(frozen=True, eq=False, repr=False)
class ReprintSettings(Section):
    """[reprint]: reprints of past receipts (补打) from the history."""

    manager_pin: bool = _setting(False, _boolean, "补打要店长密码 / a manager's PIN allows each reprint")
    max: int = _setting(0, _range(0), "每张小票最多补打次数，0 = 不限 / reprints per receipt, 0 = no cap")


def _encoding(value: Any) -> Optional[str]:
    if not isinstance(value, str):
        return "must be text in quotes"
    return None if printer_config.known_encoding(value) else "must be an encoding such as \"gb18030\" or \"ascii\""


@dataclass(frozen=True, eq=False, repr=False)
class DisplaySettings(Section):
    """[display]: the customer display (客显) on a serial port: price on scan, total at F12, paid and change."""

    kind: str = _setting("none", _choice("none", "led8", "vfd2x20"),
                         "客显 / customer display: none, led8 (8-digit LED), vfd2x20 (2x20 VFD, CD5220)")
    port: str = _setting("", _string, "串口设备 / serial port, e.g. /dev/ttyUSB1")
    baudrate: int = _setting(9600, _range(1200, 115200), "波特率 / baud rate")
    encoding: str = _setting("gb18030", _encoding, "VFD 编码 / VFD text encoding: gb18030, or ascii (English only)")


@dataclass(frozen=True, eq=False, repr=False)
class SignInSettings(Section):
    """[signin]: cashiers' PINs, at sign-in and at the manager prompt: wrong PINs in a row lock that code for a
    while (both count, both are locked); how short a new PIN may be (a shorter PIN set before still works)."""

    lock_attempts: int = _setting(5, _range(1, 100), "连续输错几次密码锁定（登录和店长密码一起算）/ wrong PINs "
                                                    "in a row that lock a code (sign-in and manager prompt)")
    lock_minutes: int = _setting(5, _range(1, 1440), "锁定分钟数 / minutes a locked code waits")
    min_pin_length: int = _setting(4, _range(4, 32), "收银员新密码最少几位 / fewest characters of a new "
                                                     "cashier's PIN")
    manager_min_pin_length: int = _setting(6, _range(4, 32), "店长新密码最少几位 / fewest characters of a new "
                                                             "manager's PIN")


@dataclass(frozen=True, eq=False, repr=False)
class SellingSettings(Section):
    """[selling]: the basket, discounts and 抹零, and who may correct a sale (a manager's PIN above the limits)."""

    merge_scans: bool = _setting(True, _boolean, "同一商品再扫一次并入原行 / a repeated scan adds to its line")
    cashier_max_discount: int = _setting(
        10, _range(0, 100), "收银员最多可打几折扣（百分比），超过要店长密码 / a cashier's largest discount in percent; "
        "above it a manager's PIN")
    cashier_price_override: bool = _setting(False, _boolean,
                                            "收银员可改价 / a cashier may change a price (else a manager's PIN)")
    rounding: str = _setting("off", _choice("off", "jiao", "yuan"), "抹零 / round the total down: off, jiao, yuan")
    rounding_tenders: str = _setting("cash", _choice("cash", "all"),
                                     "抹零适用 / 抹零 for: cash (cash only) or all (every tender)")
    refund_manager_pin: bool = _setting(True, _boolean, "退货要店长密码 / a refund needs a manager's PIN")
    refund_without_receipt: bool = _setting(False, _boolean, "允许无单退货 / allow a refund without a receipt")
    no_sale_manager_pin: bool = _setting(False, _boolean,
                                         "开钱箱（不销售）要店长密码 / opening the drawer without a sale needs a PIN")


@dataclass(frozen=True, eq=False, repr=False)
class ShiftSettings(Section):
    """[shift]: the cash drawer's shift: paid out limits per role, and a blind close."""

    cashier_max_paid_out: int = _setting(
        5000, _range(0), "分：收银员一次最多支出，超过要店长密码 / fen: the most a cashier pays out alone "
        "(5000 = ￥50); above it a manager's PIN")
    blind_close: bool = _setting(False, _boolean, "盲点：先点钱再看应有金额 / blind close: count the drawer "
                                                 "before seeing the expected cash")
    ask_float: bool = _setting(True, _boolean, "收银台启动时没有班次就问备用金 / ask the opening float when the "
                                             "till starts with no open shift")
    count_notes: bool = _setting(True, _boolean, "备用金和结班按面额逐张点（否 = 只输总数，F2 也一样）/ count the "
                                               "float and the Z's cash note by note (false: one total)")
    ask_difference_fen: int = _setting(
        5000, _range(0), "分：结班时长短款达到这个数先问一次“重新点？”，0 = 不问 / fen: a Z count this far over or "
        "short asks first whether to count again (5000 = ￥50), 0 = never asks")


@dataclass(frozen=True, eq=False, repr=False)
class BackupSettings(Section):
    """[backup]: where `chaoying backup` (and the till, once a day when idle) puts backups, and how many stay."""

    dir: str = _setting("", _string, "空 = 用户数据目录里的 backups / empty = backups in the user data dir")
    second_dir: str = _setting("", _string, "第二个位置（U 盘、网络共享），空 = 没有 / a second place "
                                             "(USB stick, network share), empty = none")
    keep_daily: int = _setting(7, _range(1, 3650), "保留最近几天的备份 / daily backups kept")
    keep_monthly: int = _setting(12, _range(0, 1200), "保留最近几个月的备份 / monthly backups kept")
    idle_minutes: int = _setting(10, _range(0, 1440), "空闲几分钟后每天自动备份一次，0 = 不自动 / "
                                                      "minutes idle before the daily backup, 0 = never")


@dataclass(frozen=True, eq=False, repr=False)
class LimitsSettings(Section):
    """[limits]: entries so large they are most likely a slip; the till asks the cashier first (0 = never asks)."""

    max_qty: int = _setting(999, _range(0), "一行数量超过就确认，0 = 不问 / a line quantity above this asks; 0 = never")
    max_line_fen: int = _setting(1_000_000, _range(0),
                                 "分：一行金额超过就确认 / fen: a line above this asks (1000000 = ￥10000)")
    max_change_fen: int = _setting(100_000, _range(0),
                                   "分：现金找零超过就确认 / fen: cash change above this asks (100000 = ￥1000)")


@dataclass(frozen=True, eq=False, repr=False)
class JournalSettings(Section):
    """[journal]: the key that seals the journal and the audit chain (HMAC), kept outside the database."""

    key_file: str = _setting("journal.key", _string, "日志密钥文件（chaoying init 生成；相对路径 = 设置文件旁边；"
                                                       "空 = 不用密钥）/ journal key file (made by chaoying init; "
                                                       "relative = beside the settings file; empty = no key)")


@dataclass(frozen=True, eq=False, repr=False)
class StockSettings(Section):
    """[stock]: selling a product with none on hand (on hand after the line below 0)."""

    negative: str = _setting("warn", _choice("allow", "warn", "refuse"),
                             "没有库存还卖：allow = 照卖不提示，warn = 照卖并在这一行标“缺货”，refuse = 不让卖 / "
                             "selling with none on hand: allow (say nothing), warn (mark the line), refuse")


def _http_url(value: Any) -> Optional[str]:
    if not isinstance(value, str):
        return "must be text in quotes"
    if value and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        return "must be empty or a URL beginning https:// (http:// for this machine only)"
    return None


def _sign_type(value: Any) -> Optional[str]:
    return _choice("MD5", "HMAC-SHA256")(value)


def _seconds(value: Any) -> Optional[str]:
    return _range(1, 120)(value)


@dataclass(frozen=True, eq=False, repr=False)
class WechatPaySettings(Section):
    """[payments.wechat]: WeChat Pay APIv2 付款码支付; empty base_url = WeChat Pay not offered on this till."""

    base_url: str = _setting("", _http_url, "空 = 不收微信付款码 / empty = no WeChat Pay; "
                                            "https://api.mch.weixin.qq.com")
    appid: str = _setting("", _string, "公众账号 ID / appid")
    mch_id: str = _setting("", _string, "商户号 / merchant id")
    api_key_file: str = _setting("", _string, "API 密钥文件（权限 600）/ API key file (mode 600)")
    cert_file: str = _setting("", _string, "商户证书（撤销、退款用）/ merchant certificate (reverse, refund)")
    cert_key_file: str = _setting("", _string, "证书私钥文件（权限 600）/ certificate key file (mode 600)")
    sign_type: str = _setting("MD5", _sign_type, "签名方式 / signature: MD5, HMAC-SHA256")
    timeout_seconds: int = _setting(10, _seconds, "秒：每次请求最多等多久 / seconds each request may take")

    @property
    def set_up(self) -> bool:
        return bool(self.base_url)


@dataclass(frozen=True, eq=False, repr=False)
class AlipaySettings(Section):
    """[payments.alipay]: Alipay alipay.trade.pay (bar_code); empty gateway = Alipay not offered on this till."""

    gateway: str = _setting("", _http_url, "空 = 不收支付宝付款码 / empty = no Alipay; "
                                           "https://openapi.alipay.com/gateway.do")
    app_id: str = _setting("", _string, "应用 ID / app id")
    private_key_file: str = _setting("", _string, "应用私钥文件（权限 600）/ app private key file (mode 600)")
    alipay_public_key_file: str = _setting("", _string, "支付宝公钥文件 / Alipay public key file")
    timeout_seconds: int = _setting(10, _seconds, "秒：每次请求最多等多久 / seconds each request may take")

    @property
    def set_up(self) -> bool:
        return bool(self.gateway)


@dataclass(frozen=True, eq=False, repr=False)
class PaymentsSettings(Section):
    """[payments.wechat] and [payments.alipay]: the providers this till charges payment codes with."""

    wechat: WechatPaySettings = WechatPaySettings()
    alipay: AlipaySettings = AlipaySettings()


# The cash drawer hangs off the main printer, so the spare does not kick it.
# The spare printer's section is [backup_printer] and its name "backup": stored on print attempts.
MAIN_PRINTER = PrinterConfig(port="/dev/ttyUSB0", name="main")
SPARE_PRINTER = PrinterConfig(port="", drawer=False, name="backup")


@dataclass(frozen=True, eq=False, repr=False)
class Settings(Section):
    """Everything the settings file says, checked."""

    path: Optional[Path] = None
    shop: ShopSettings = ShopSettings()
    till: TillSettings = TillSettings()
    ui: UiSettings = UiSettings()
    database: DatabaseSettings = DatabaseSettings()
    server: ServerSettings = ServerSettings()
    printer: PrinterConfig = MAIN_PRINTER
    spare_printer: Optional[PrinterConfig] = None  # [backup_printer]; None when its port is empty
    scale: ScaleSettings = ScaleSettings()
    receipt: ReceiptSettings = ReceiptSettings()
    reprint: ReprintSettings = ReprintSettings()
    display: DisplaySettings = DisplaySettings()
    signin: SignInSettings = SignInSettings()
    selling: SellingSettings = SellingSettings()
    shift: ShiftSettings = ShiftSettings()
    backup: BackupSettings = BackupSettings()
    limits: LimitsSettings = LimitsSettings()
    journal: JournalSettings = JournalSettings()
    stock: StockSettings = StockSettings()
    payments: PaymentsSettings = PaymentsSettings()
    keys: Mapping[str, str] = field(default_factory=dict)  # [keys]: binding id -> key(s), checked by tui.keymap

    def with_ui(self, language: Optional[str] = None, theme: Optional[str] = None) -> "Settings":
        """The same settings with --language / --theme from the command line applied."""
        ui = dataclasses.replace(self.ui, language=language or self.ui.language, theme=theme or self.ui.theme)
        return dataclasses.replace(self, ui=ui)


SECTIONS: Dict[str, Any] = {
    "shop": ShopSettings, "till": TillSettings, "ui": UiSettings, "database": DatabaseSettings,
    "server": ServerSettings,
    "printer": MAIN_PRINTER, "backup_printer": SPARE_PRINTER,
    "scale": ScaleSettings, "receipt": ReceiptSettings, "reprint": ReprintSettings,
    "display": DisplaySettings,
    "signin": SignInSettings,
    "selling": SellingSettings,
    "shift": ShiftSettings,
    "backup": BackupSettings,
    "limits": LimitsSettings,
    "journal": JournalSettings,
    "stock": StockSettings,
    "payments.wechat": WechatPaySettings,
    "payments.alipay": AlipaySettings,
}
#: [payments.wechat] is written [payments] wechat in TOML: a table of tables.
PAYMENTS_SECTION = "payments"
# [keys] is free-form (binding id -> key names): the till knows its ids (tui.keymap checks them).
KEYS_SECTION = "keys"


def _checkers(section: str) -> Dict[str, Checker]:
    """key -> checker of one section; printers are checked by printing.config, their one home."""
    spec = SECTIONS[section]
    if isinstance(spec, PrinterConfig):
        return {key: functools.partial(printer_config.problem, key) for key in printer_config.setting_keys()}
    return {f.name: f.metadata["check"] for f in fields(spec)}


def defaults() -> Dict[str, Dict[str, Any]]:
    """A fresh copy of every section with its default values, as a settings file would hold them."""
    values: Dict[str, Dict[str, Any]] = {}
    for section, spec in SECTIONS.items():
        base = spec if isinstance(spec, PrinterConfig) else spec()
        values[section] = {key: getattr(base, key) for key in _checkers(section)}
    values["scale"]["prefixes"] = list(values["scale"]["prefixes"])
    return values


# ---------------------------------------------------------------- loading

def find_config_path(cli_path: Optional[str]) -> Path:
    """The settings file to use: --config, then CHAOYING_CONFIG, then the platform config dir."""
    return _named_config_path(cli_path) or _platform_config_path()


def _named_config_path(cli_path: Optional[str]) -> Optional[Path]:
    """The file the user named (--config, else CHAOYING_CONFIG), or None."""
    named = cli_path or os.environ.get("CHAOYING_CONFIG", "").strip()
    return Path(named).expanduser() if named else None


def _platform_config_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILE_NAME


def load(cli_path: Optional[str]) -> Settings:
    """The settings every command uses; a file the user named that does not exist is an error."""
    named = _named_config_path(cli_path)
    if named is not None and not named.exists():
        raise SettingsError(f"settings file {named} does not exist; "
                            f"create it with: chaoying --config {named} init", named)
    return load_settings(named or _platform_config_path())


def default_database_url() -> str:
    """A SQLite file in the platform's user data dir."""
    import platformdirs

    return default_sqlite_url(platformdirs.user_data_dir(APP_NAME))


def default_sqlite_url(data_dir: Any) -> str:
    """URL of the default SQLite file inside ``data_dir`` (here, not in store.db: no peewee import)."""
    return "sqlite:///" + str(Path(data_dir).expanduser().resolve() / "chaoying.sqlite3")


def load_settings(path: Optional[Path]) -> Settings:
    """Read and check one settings file; None or a missing file gives all defaults."""
    values = defaults()
    keys: Dict[str, str] = {}
    if path is not None:
        path = Path(path)
        text = _read_text(path)
        if text is not None:
            keys = _merge(values, _parse(path, text), path, text)
            _check_scale(values["scale"], path, text)
    return _build(path, values, keys)


def _read_text(path: Path) -> Optional[str]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise SettingsError(f"{path} is a folder, not a settings file.", path) from None
    except OSError as exc:
        raise SettingsError(f"{path} cannot be read: {exc.strerror or exc}.", path) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SettingsError(f"{path} line {line}: the file is not UTF-8 text.", path, line) from None


def _parse(path: Path, text: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(path, text, exc) from None
    except RecursionError:  # the parser recurses per nested array or table
        raise SettingsError(f"{path}: not valid settings (arrays or tables nested too deep).", path) from None


def _syntax_error(path: Path, text: str, exc: Exception) -> SettingsError:
    message = str(exc)
    reason = re.sub(r"\s*\((at line \d+, column \d+|at end of document)\)\s*$", "", message)
    line = getattr(exc, "lineno", None)
    found = re.search(r"at line (\d+)", message)
    if line is None and found:
        line = int(found.group(1))
    if line is None:  # "at end of document": most often a key given twice
        line = _duplicate_key_line(text) or max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
    section, key = _key_at(text, line)
    if key:
        what = f"{_name(section, key)} is not valid TOML"
    elif key is None:
        what = f"[{section}] is not valid TOML"
    else:
        what = f"not valid TOML in [{section}]" if section else "not valid TOML"
    name = f"{section}.{key}" if key and section else (key or section)
    return SettingsError(f"{path} line {line}: {what} ({reason.rstrip('.')}).", path, line, name)


# ---------------------------------------------------------------- checking

def _merge(values: dict, data: dict, path: Path, text: str) -> Dict[str, str]:
    """Check every table of the file into ``values``; returns the [keys] table."""
    keys: Dict[str, str] = {}
    for section, table in _flat_sections(data, path, text):
        if section == KEYS_SECTION and isinstance(table, dict):
            keys = _keys_table(table, path, text)
            continue
        if section not in SECTIONS:
            if not isinstance(table, dict):
                line = _line_of(text, "", section)
                raise _error(path, line, section, f"{section} is not a known setting; "
                             "settings belong in sections such as [shop] or [printer]")
            line = _line_of(text, section, None)
            hint = _did_you_mean(section, SECTIONS, brackets=True)
            raise _error(path, line, section, f"[{section}] is not a known section{hint}")
        if not isinstance(table, dict):
            line = _line_of(text, "", section)
            raise _error(path, line, section, f"{section} must be a section [{section}], not {_show(table)}")
        checkers = _checkers(section)
        for key, value in table.items():
            line = _line_of(text, section, key)
            if key not in checkers:
                hint = _did_you_mean(key, checkers)
                raise _error(path, line, f"{section}.{key}", f"{_name(section, key)} is not a known setting{hint}")
            problem = checkers[key](value)
            if problem:
                raise _error(path, line, f"{section}.{key}", f"{_name(section, key)} {problem}, not {_show(value)}")
            values[section][key] = value
    return keys


def _flat_sections(data: dict, path: Path, text: str) -> List[Tuple[str, Any]]:
    """The file's tables, [payments.wechat] and [payments.alipay] as sections of their own."""
    found: List[Tuple[str, Any]] = []
    for section, table in data.items():
        if section != PAYMENTS_SECTION or not isinstance(table, dict):
            found.append((section, table))
            continue
        for name, sub in table.items():
            full = f"{PAYMENTS_SECTION}.{name}"
            if full not in SECTIONS or not isinstance(sub, dict):
                line = _line_of(text, full, None) or _line_of(text, PAYMENTS_SECTION, name)
                raise _error(path, line, full, f"[{full}] is not a known section; the payment providers are "
                             "[payments.wechat] and [payments.alipay]")
            found.append((full, sub))
    return found


def _keys_table(table: dict, path: Path, text: str, prefix: str = "") -> Dict[str, str]:
    """[keys]: binding id -> key(s), both text. Which ids and keys exist is the till's to check (tui.keymap)."""
    found: Dict[str, str] = {}
    for key, value in table.items():
        name = prefix + key
        if isinstance(value, dict):  # sale.tender = "f11" without quotes is a nested table in TOML
            found.update(_keys_table(value, path, text, name + "."))
            continue
        if not isinstance(value, str) or not value.strip():
            line = _line_of(text, KEYS_SECTION, name) or _line_of(text, KEYS_SECTION, None)
            raise _error(path, line, f"{KEYS_SECTION}.{name}",
                         f'[keys] "{name}" must be a key name in quotes, such as "f11", not {_show(value)}')
        found[name] = value
    return found


def _check_scale(scale: dict, path: Path, text: str) -> None:
    """The PLU, the value and the price check digit must fill the 10 digits between prefix and check digit."""
    used = scale["plu_digits"] + scale["value_digits"] + (1 if scale["price_check"] else 0)
    if used != 10:
        written = {key: number for number, sec, key in _scan(text) if sec == "scale" and key}
        line = next((written[k] for k in ("value_digits", "plu_digits", "price_check") if k in written),
                    _line_of(text, "scale", None))
        check = " + 1 for the price check digit" if scale["price_check"] else ""
        raise _error(path, line, "scale.value_digits",
                     f"[scale] plu_digits ({scale['plu_digits']}) + value_digits ({scale['value_digits']}){check} "
                     f"must make 10, the digits of an EAN-13 between the prefix and the check digit")


def _error(path: Path, line: Optional[int], key: str, what: str) -> SettingsError:
    where = f"{path} line {line}" if line else str(path)
    end = "" if what.endswith(("?", ".")) else "."
    return SettingsError(f"{where}: {what}{end}", path, line, key)


def _did_you_mean(word: str, known, brackets: bool = False) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    if not close:
        return ""
    return f"; did you mean [{close[0]}]?" if brackets else f"; did you mean {close[0]}?"


def _name(section: str, key: str) -> str:
    return f"[{section}] {key}" if section else key


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return json.dumps(str(value), ensure_ascii=False)


def _build(path: Optional[Path], values: dict, keys: Dict[str, str]) -> Settings:
    values["till"]["id"] = str(values["till"]["id"])
    values["scale"]["prefixes"] = tuple(values["scale"]["prefixes"])
    values["database"]["url"] = resolve_database_url(values["database"]["url"], path)
    spare = values["backup_printer"]
    return Settings(
        path=path,
        shop=ShopSettings(**values["shop"]),
        till=TillSettings(**values["till"]),
        ui=UiSettings(**values["ui"]),
        database=DatabaseSettings(**values["database"]),
        server=ServerSettings(**values["server"]),
        printer=PrinterConfig(name="main", **values["printer"]),
        spare_printer=PrinterConfig(name="backup", **spare) if spare["port"] else None,
        scale=ScaleSettings(**values["scale"]),
        receipt=ReceiptSettings(**values["receipt"]),
        reprint=ReprintSettings(**values["reprint"]),
        display=DisplaySettings(**values["display"]),
        signin=SignInSettings(**values["signin"]),
        selling=SellingSettings(**values["selling"]),
        shift=ShiftSettings(**values["shift"]),
        backup=_backup_settings(values["backup"], path),
        limits=LimitsSettings(**values["limits"]),
        journal=JournalSettings(key_file=_beside(values["journal"]["key_file"], path)),
        stock=StockSettings(**values["stock"]),
        payments=_payments_settings(values, path),
        keys=keys,
    )


#: Sections whose values the shop may set for every till on its server (store.shared_data's shared_setting).
SHARED_SECTIONS = ("selling", "limits")


def shared_problem(section: str, key: str, value: Any) -> Optional[str]:
    """Why a shared value cannot be used (one sentence), or None: the file's own checks, and only shared sections."""
    if section not in SHARED_SECTIONS:
        return (f"[{section}] cannot be shared; the shop's server sets only "
                + " and ".join(f"[{name}]" for name in SHARED_SECTIONS) + " values")
    checkers = _checkers(section)
    if key not in checkers:
        return f"{_name(section, key)} is not a known setting{_did_you_mean(key, checkers)}"
    problem = checkers[key](value)
    return f"{_name(section, key)} {problem}, not {_show(value)}" if problem else None


def with_shared(settings: Settings, shared: Mapping[str, Mapping[str, Any]]) -> Tuple[Settings, List[str]]:
    """``settings`` with the shop's shared values ({section: {key: value}}) over the file's, and the problems.

    A value that fails the check the settings file would give is ignored (the file's value stays) and said
    as one sentence in the problems.
    """
    problems: List[str] = []
    for section, table in sorted(shared.items()):
        changes: Dict[str, Any] = {}
        for key, value in sorted(table.items()):
            problem = shared_problem(section, key, value)
            if problem:
                problems.append(f"shared setting ignored: {problem}")
            else:
                changes[key] = value
        if changes:
            settings = dataclasses.replace(settings, **{section: dataclasses.replace(getattr(settings, section),
                                                                                    **changes)})
    return settings, problems


def _payments_settings(values: Dict[str, Any], path: Optional[Path]) -> PaymentsSettings:
    """Key and certificate files resolved as the journal key is: relative = beside the settings file."""
    def files(section: str, names: Tuple[str, ...]) -> Dict[str, Any]:
        table = dict(values[section])
        return {**table, **{name: _beside(table[name], path) for name in names}}

    wechat = files("payments.wechat", ("api_key_file", "cert_file", "cert_key_file"))
    alipay = files("payments.alipay", ("private_key_file", "alipay_public_key_file"))
    return PaymentsSettings(WechatPaySettings(**wechat), AlipaySettings(**alipay))


def _backup_settings(values: Dict[str, Any], path: Optional[Path]) -> BackupSettings:
    """Folders resolved: empty dir = backups in the user data dir; relative = beside the settings file."""
    import platformdirs

    def folder(text: str) -> str:
        if not text.strip():
            return ""
        found = Path(text).expanduser()
        if not found.is_absolute() and path is not None:
            found = path.parent / found
        return str(found)

    default = str(Path(platformdirs.user_data_dir(APP_NAME)) / "backups")
    return BackupSettings(**{**values, "dir": folder(values["dir"]) or default,
                             "second_dir": folder(values["second_dir"])})


def _beside(text: str, path: Optional[Path]) -> str:
    """A file named in the settings: relative = beside the settings file (else the user data dir); "" stays ""."""
    if not text.strip():
        return ""
    found = Path(text).expanduser()
    if not found.is_absolute():
        if path is not None:
            found = path.parent / found
        else:
            import platformdirs

            found = Path(platformdirs.user_data_dir(APP_NAME)) / found
    return str(found)


def resolve_database_url(url: str, path: Optional[Path], env: Optional[str] = None) -> str:
    """The database a settings file's [database] url means: ``env`` (DATABASE_URL when None) first, then the
    URL (a relative SQLite file beside the settings file), then the default SQLite file."""
    env = (os.environ.get("DATABASE_URL", "") if env is None else env).strip()
    if env:
        return env
    if not url:
        return default_database_url()
    # A relative SQLite file is relative to the settings file, not to wherever the till was started.
    prefix = "sqlite:///"
    if url.startswith(prefix) and path is not None:
        file = url[len(prefix):]
        if file and file != ":memory:" and not file.startswith(("/", "~")) and not file.startswith("file:"):
            return prefix + str((path.parent / file).resolve())
    if url.startswith(prefix + "~"):
        return prefix + str(Path(url[len(prefix):]).expanduser())
    return url


# ---------------------------------------------------------------- finding lines in the text

_TABLE = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.\- ]+?)\s*=""")


def _scan(text: str) -> List[Tuple[int, str, Optional[str]]]:
    """(line number, section, key or None for a [section] header) for each table and key line."""
    found: List[Tuple[int, str, Optional[str]]] = []
    section = ""
    in_multiline: Optional[str] = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        table = _TABLE.match(line)
        if table and not line.lstrip().startswith("[["):
            section = _unquote(table.group(1))
            found.append((number, section, None))
            continue
        key = _KEY.match(line)
        if key:
            dotted = _unquote(key.group(1))
            if "." in dotted and not key.group(1).startswith(("'", '"')):
                head, _, rest = dotted.partition(".")
                found.append((number, ".".join(filter(None, [section, head.strip()])), rest.strip()))
            else:
                found.append((number, section, dotted.strip()))
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_multiline = quote
    return found


def _unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        return name[1:-1]
    return name


def _line_of(text: str, section: str, key: Optional[str]) -> Optional[int]:
    """The line where [section] key (or the [section] header when key is None) is written."""
    entries = _scan(text)
    for number, sec, k in entries:
        if sec == section and k == key:
            return number
    if key is not None:
        # An inline table (printer = {baudrate = "fast"}) or a dotted key (printer.baudrate = ...).
        for number, sec, k in entries:
            if (sec == "" and k == section) or (sec == section and k is None):
                for line_no, line in enumerate(text.splitlines(), start=1):
                    if line_no >= number and re.search(rf"\b{re.escape(key)}\s*=", line):
                        return line_no
                return number
    return None


def _key_at(text: str, line: int) -> Tuple[str, Optional[str]]:
    """The section and key written on a line: key None for a [section] line, "" for any other line."""
    section = ""
    for number, sec, key in _scan(text):
        if number > line:
            break
        section = sec
        if number == line:
            return sec, key
    return section, ""


def _duplicate_key_line(text: str) -> Optional[int]:
    seen = set()
    for number, section, key in _scan(text):
        if (section, key) in seen:
            return number
        seen.add((section, key))
    return None




# ---------------------------------------------------------------- the default file

# Comment lines above each section of the default file (Chinese and English).
_INTROS: Dict[str, List[str]] = {
    "shop": ["# 店铺信息，印在小票上 / Shop details printed on the receipt"],
    "till": ["# 收银台编号：1 到 8 个字母、数字、- 或 _，每台收银机不同",
             "# Till id: 1 to 8 letters, digits, - or _; different on every till"],
    "ui": [],
    "database": ["# 本机数据库 / Database: every till sells on its own SQLite file",
                 "# 留空 = 用户数据目录里的 SQLite 文件 / empty = a SQLite file in the user data dir."],
    "server": ["# 门店服务器（PostgreSQL）：每台收银机把记录同步上去，商品和收银员从这里同步下来。",
               "# The shop's server (PostgreSQL): every till syncs its records up, products and cashiers come down.",
               "# 服务器断开时照常收银，恢复后自动补传 / offline, the till sells on and catches up by itself."],
    "printer": ["# 小票打印机（ESC/POS 串口）/ Receipt printer (ESC/POS, serial)"],
    "backup_printer": ["# 备用打印机：port 留空表示没有 / Backup printer: empty port = none"],
    "scale": ["# 电子秤条码（EAN-13，前缀 20-29）/ Label scale barcodes (EAN-13, prefix 20-29)",
              "# 前缀 + 商品码(PLU) + [价格校验位] + 重量或金额 + 校验位；plu_digits + value_digits (+1) = 10",
              "# prefix + PLU + [price check digit] + weight or price + check digit"],
    "receipt": ["# 小票 / Receipt"],
    "reprint": ["# 补打小票 / Reprints of past receipts (F9)"],
    "display": ["# 客显（顾客显示屏，串口）/ Customer display (serial)"],
    "signin": ["# 收银员登录和店长密码 / Cashier sign-in and the manager's PIN"],
    "selling": ["# 收银：合并扫码、折扣与抹零、退货与作废的权限 / Selling: merged scans, discounts and 抹零, "
                "who may refund and void"],
    "shift": ["# 班次：备用金、支出限额、盲点 / Shift: paid out limits, blind close"],
    "backup": ["# 备份（chaoying backup）/ Backups (chaoying backup)"],
    "limits": ["# 大数确认：数量、金额、找零过大时先问收银员（多半是输错了）",
               "# Guard rails: a quantity, line or change this large asks the cashier first (most likely a slip)"],
    "journal": ["# 日志防篡改密钥 / Journal key: with it, rebuilding the hash chain after an edit needs the key.",
                "# 请把密钥文件另存一份（U 盘）/ keep a copy of the key file elsewhere (a USB stick)."],
    "stock": ["# 库存：卖出没有库存的商品时怎么办 / Stock: selling a product with none on hand"],
    "payments.wechat": ["# 微信付款码支付（APIv2）：扫顾客的付款码收款。密钥文件权限必须是 600。",
                        "# WeChat Pay (APIv2 付款码): the till charges the payment code. Key files: mode 600."],
    "payments.alipay": ["# 支付宝当面付（条码支付）/ Alipay face-to-face (bar_code): the same, for Alipay codes."],
}

_PRINTER_NOTES = {
    "port": "串口设备 / serial port, e.g. /dev/ttyUSB0, /dev/ttyS0",
    "baudrate": "波特率 / baud rate: " + ", ".join(str(b) for b in BAUDRATES),
    "bytesize": "数据位 / data bits: 5, 6, 7, 8",
    "parity": "校验 / parity: N, E, O, M, S",
    "stopbits": "停止位 / stop bits: 1, 1.5, 2",
    "rtscts": "硬件流控 / hardware flow control (RTS/CTS)",
    "xonxoff": "软件流控 / software flow control (XON/XOFF)",
    "width": "纸宽毫米 / paper width in mm: 58 or 80",
    "encoding": "中文编码 / text encoding for Chinese",
    "qr": "二维码 / QR code: native (fast), image (slow, any printer), none",
    "confirm": "打印确认 / print confirmation: epson (GS ( H), gs_r (GS r 1), status (weakest)",
    "barcode": "小票条码 / receipt barcode: code128, ean13, none",
    "drawer": "打印后弹钱箱 / open the cash drawer wired to this printer",
}


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, list, tuple)):
        return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
    return str(value)


def _commented(setting: str, note: str) -> str:
    """setting, padded to column 28 counting CJK characters as two columns, then # note."""
    import unicodedata

    width = sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in setting)
    return setting + " " * max(1, 28 - width) + "# " + note


def _notes(section: str) -> Dict[str, str]:
    spec = SECTIONS[section]
    if isinstance(spec, PrinterConfig):
        return _PRINTER_NOTES
    return {f.name: f.metadata["note"] for f in fields(spec)}


def default_text() -> str:
    """The commented default settings file (Chinese and English comments)."""
    lines = [
        "# 超赢收银机设置 / Chaoying cash register settings",
        "# 每一项都有默认值，删掉的项按默认处理。",
        "# Every key has a default; a key you delete takes its default.",
        "",
    ]
    for section, values in defaults().items():
        notes = _notes(section)
        lines += _INTROS[section] + [f"[{section}]"]
        lines += [_commented(f"{key} = {_toml(value)}", notes[key]) for key, value in values.items()]
        lines.append("")
    lines += [
        "# 改键：按键编号 = 新按键（F1 帮助里有每个界面的按键）/ Remap keys: binding id = key(s)",
        "# 例 / e.g.:",
        '#   "sale.tender" = "f12,ctrl+n"',
        '#   "view.close" = "escape,q"',
        f"[{KEYS_SECTION}]",
        "",
    ]
    return "\n".join(lines)


def write_default(path: Path) -> None:
    """Write the commented default settings file (atomically, creating its folder)."""
    from tui.files import write_atomically

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda handle: handle.write(default_text()))
