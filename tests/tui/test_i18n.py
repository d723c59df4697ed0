"""Both catalogues walked: same keys, no empty text, same placeholders, every key used exists,
no Chinese text written into a screen, store errors said in the cashier's language."""
from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from tests.tui.language import CJK, assert_one_language, console_drawable

ROOT = Path(__file__).resolve().parents[2]
TUI = ROOT / "tui"


def placeholders(text: str) -> set:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def test_the_catalogues_have_the_same_keys():
    from tui.i18n import CATALOGUES

    zh, en = CATALOGUES["zh"], CATALOGUES["en"]
    assert sorted(set(zh) - set(en)) == [], "keys only in Chinese"
    assert sorted(set(en) - set(zh)) == [], "keys only in English"


def test_no_catalogue_text_is_empty():
    from tui.i18n import CATALOGUES

    for language, catalogue in CATALOGUES.items():
        empty = [key for key, text in catalogue.items() if not text.strip()]
        assert empty == [], f"{language}: {empty}"


def test_each_key_has_the_same_placeholders_in_both_languages():
    from tui.i18n import CATALOGUES

    zh, en = CATALOGUES["zh"], CATALOGUES["en"]
    wrong = {key: (placeholders(zh[key]), placeholders(en[key]))
             for key in zh if key in en and placeholders(zh[key]) != placeholders(en[key])}
    assert wrong == {}


def test_an_english_count_of_things_has_its_singular():
    """"1 held baskets wait" reads "1 held basket waits": a text counting nouns has its ``.one`` form."""
    from tui.i18n import CATALOGUES

    counted_plural = re.compile(r"\{count\} (?:[a-z]+ ){0,2}?[a-z]+s\b")  # "{count} held baskets", "{count} items"
    missing = sorted(key for key, text in CATALOGUES["en"].items()
                     if not key.endswith(".one") and counted_plural.search(text) and key + ".one" not in CATALOGUES["en"])
    assert missing == []


def test_one_held_basket_before_the_z_is_said_in_the_singular():
    from store.reports import ReportError
    from tui import i18n
    from tui.errors import describe

    i18n.set_language("en")
    try:
        one, two = (describe(ReportError("", "z_held_basket", count=n)) for n in (1, 2))
    finally:
        i18n.set_language("zh")
    assert one.startswith("1 held basket waits: ") and "cancel it before" in one
    assert two.startswith("2 held baskets wait: ")


def test_english_can_be_drawn_on_the_linux_console():
    """auto picks English on the console, which has no CJK glyphs (and no full-width yuan sign)."""
    from tui.i18n import CATALOGUES

    wide = {key: text for key, text in CATALOGUES["en"].items() if not console_drawable(text)}
    assert wide == {}


def used_keys():
    """Every t("key") and t(f"prefix.{...}") in tui/: (literal keys, f-string prefixes)."""
    literal, prefixes = set(), set()
    for path in TUI.rglob("*.py"):
        if path.name == "i18n.py":  # its docstring shows how t() is called
            continue
        source = path.read_text(encoding="utf-8")
        literal |= set(re.findall(r"""\bt\(\s*["']([A-Za-z0-9_.]+)["']\s*[,)]""", source))
        prefixes |= set(re.findall(r"""\bt\(\s*f["']([A-Za-z0-9_.]+\.)\{""", source))
        prefixes |= set(re.findall(r"""\bt\(\s*["']([A-Za-z0-9_.]+\.)["']\s*\+""", source))
    return literal, prefixes


def test_every_key_the_till_asks_for_exists():
    from tui.i18n import CATALOGUES

    literal, prefixes = used_keys()
    assert len(literal) > 100  # the scan finds the calls
    for language, catalogue in CATALOGUES.items():
        missing = sorted(key for key in literal if key not in catalogue)
        assert missing == [], f"{language}: {missing}"
        for prefix in prefixes:
            assert any(key.startswith(prefix) for key in catalogue), f"{language}: nothing under {prefix}"


def test_every_key_label_and_help_section_is_translated():
    from store.outcomes import STATES
    from store.sales import METHODS
    from tui import keymap
    from tui.i18n import CATALOGUES

    needed = {key.label for group in keymap.KEYS.values() for key in group}
    needed |= {f"help.screen.{group}" for group in keymap.KEYS if group not in keymap.GLOBAL_GROUPS}
    needed.add("help.screen.app")  # F1 puts every global group under this title
    needed |= {f"method.{m}" for m in METHODS} | {f"status.{s}" for s in STATES}
    for language, catalogue in CATALOGUES.items():
        assert sorted(needed - set(catalogue)) == [], language


def test_every_printer_reason_code_is_translated():
    from printing.transport import REASONS
    from tui.i18n import CATALOGUES

    for language, catalogue in CATALOGUES.items():
        assert sorted(f"printer.{code}" for code in REASONS if f"printer.{code}" not in catalogue) == [], language


def string_literals(path: Path):
    """(line, text) of every string literal in a Python file, f-strings too; docstrings and comments are not UI."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def test_no_chinese_is_written_into_a_screen():
    found = [f"{path.name}:{line}: {text[:40]}"
             for path in sorted((TUI / "screens").glob("*.py"))
             for line, text in string_literals(path) if CJK.search(text)]
    assert found == []


def test_the_scan_for_chinese_can_find_it(tmp_path):
    sample = tmp_path / "screen.py"
    sample.write_text('"""屏幕 docstrings are fine."""\n# 注释 too\nlabel = "付款"\ntitle = f"{label} 合计"\n',
                      encoding="utf-8")
    assert [line for line, text in string_literals(sample) if CJK.search(text)] == [3, 4]


# ---------------------------------------------------------------- store errors at the edge

@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_mistyped_barcode_is_said_in_the_ui_language(language):
    from store.codes import CodeError, resolve_code
    from tui import i18n
    from tui.errors import describe

    i18n.set_language(language)
    try:
        with pytest.raises(CodeError) as caught:
            resolve_code("6901234567893", find=lambda code: None)
        text = describe(caught.value)
    finally:
        i18n.set_language("zh")
    assert "6901234567893" in text and "2" in text
    assert bool(CJK.search(text)) == (language == "zh"), text


def _store_errors():
    """One of each error a cashier meets at the till, raised by the store itself."""
    from store.codes import CodeError, ScaleLayout, make_scale_label, resolve_code
    from store.sales import Basket, SaleError, Tender, commit_sale

    class Product:
        name, unit, price_fen, barcode = "苹果", "个", 890, "1"

    layout = ScaleLayout(prefixes=("20",), plu_digits=5, value="weight", value_digits=5, price_check=False)
    errors = []
    for code, find in (("6901234567893", lambda c: None),
                       (make_scale_label("12345", 500, layout), lambda c: None),
                       (make_scale_label("12345", 500, layout), lambda c: Product() if c == "12345" else None),
                       (make_scale_label("12345", 0, layout), lambda c: Product() if c == "12345" else None)):
        with pytest.raises(CodeError) as caught:
            resolve_code(code, [layout], find=find)
        errors.append(caught.value)
    tender = Tender(1000)
    for call in (lambda: tender.add_payment("card", 2000), lambda: tender.add_payment("cash", 0),
                 lambda: commit_sale(Basket(), tender, "1")):
        with pytest.raises(SaleError) as caught:
            call()
        errors.append(caught.value)
    basket = Basket()
    basket.add(Product())
    for call in (lambda: commit_sale(basket, Tender(890), "1"), lambda: commit_sale(basket, Tender(5), "1")):
        with pytest.raises(SaleError) as caught:
            call()
        errors.append(caught.value)
    return errors


def test_store_errors_are_translated_by_code_with_their_values():
    from tui import i18n
    from tui.errors import describe, key_for

    errors = _store_errors()
    keys = [key_for(exc)[0] for exc in errors]
    assert keys == ["error.check_digit", "error.scale_unknown_plu", "error.scale_not_by_weight",
                    "error.scale_not_by_weight", "error.non_cash_too_much", "error.bad_payment",
                    "sale.basket_empty", "error.still_due", "error.tender_mismatch"]
    for language in ("zh", "en"):
        i18n.set_language(language)
        try:
            said = [describe(exc) for exc in errors]
        finally:
            i18n.set_language("zh")
        assert all("{" not in text for text in said), said
        assert "6901234567893" in said[0] and "2" in said[0]
        assert "12345" in said[1] and "苹果" in said[2]
        assert "20.00" in said[4] and "10.00" in said[4] and "8.90" in said[7]
    i18n.set_language("zh")
    assert describe(errors[4]).startswith("银行卡")


def test_the_translation_reads_no_english():
    """Same code and values, any sentence: the cashier's words do not change."""
    from store.codes import CodeError
    from tui.errors import describe

    assert describe(CodeError("whatever the store says", "scale_no_price", barcode="2012345000007")) == \
        "电子秤条码 2012345000007 没有金额，请重新称重"


def test_an_unknown_error_is_still_shown_in_a_translated_frame():
    from store.sales import SaleError
    from tui import i18n
    from tui.errors import describe

    i18n.set_language("zh")
    assert describe(SaleError("Something new went wrong.", "something_new")) == "这一单不能保存：Something new went wrong."
    assert describe(RuntimeError("boom")) == "出错了：boom"


def test_printer_reasons_follow_the_ui_language():
    from tui import i18n
    from tui.errors import printer_reason

    i18n.set_language("en")
    try:
        assert printer_reason("paper_out", "打印机缺纸") == "printer out of paper"
        assert printer_reason("mystery", "something odd") == "something odd"
    finally:
        i18n.set_language("zh")


# ---------------------------------------------------------------- the screen check itself

async def test_the_screen_check_finds_a_hard_coded_string(shop):
    from textual.widgets import Static

    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert_one_language(app, "zh")
        app.screen.query_one("#message", Static).update("Please scan the next item")
        await pilot.pause()
        with pytest.raises(AssertionError):
            assert_one_language(app, "zh")


async def test_the_screen_check_finds_chinese_on_an_english_screen(shop_en):
    from textual.widgets import Static

    app = shop_en.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert_one_language(app, "en")
        app.screen.query_one("#message", Static).update("请扫码")
        await pilot.pause()
        with pytest.raises(AssertionError):
            assert_one_language(app, "en")


# ---------------------------------------------------------------- receipts follow [receipt] language

@pytest.mark.parametrize("ui, receipt_language", [("en", "zh"), ("zh", "en")])
async def test_the_receipt_follows_the_receipt_language_not_the_ui(tmp_path, monkeypatch, ui, receipt_language):
    from tests.tui.conftest import close_shop, make_shop
    from tests.tui.helpers import COLA, printed_all, scan

    monkeypatch.delenv("DATABASE_URL", raising=False)
    from tui.settings import ReceiptSettings

    receipt = ReceiptSettings(language=receipt_language)
    shop = make_shop(tmp_path / "shop", language=ui, receipt=receipt)
    try:
        app = shop.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await scan(pilot, COLA)
            await pilot.press("f12", "enter")
            await printed_all(pilot, app)
            assert app.language == ui
        paper = shop.paper()[-1]
        assert ("合计" in paper) == (receipt_language == "zh"), paper
        assert ("TOTAL" in paper.upper()) == (receipt_language == "en"), paper
    finally:
        close_shop(shop)


# Event kinds that reach the log through a variable: the printer's warning (printing.PrintResult.warning).
DYNAMIC_EVENT_KINDS = {"paper_near_end"}


def logged_event_kinds() -> set:
    """Every event kind the code writes: the kind argument of each log_event(...)/add_event(...) call in
    store/ and tui/ (a string, or a module constant), every EVENT_* string constant, and DYNAMIC_EVENT_KINDS."""
    import importlib

    kinds = set(DYNAMIC_EVENT_KINDS)
    for folder in ("store", "tui"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            module = None
            for node in ast.walk(tree):
                if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Constant, ast.Tuple)):
                    names = [n.id for target in node.targets
                             for n in (target.elts if isinstance(target, ast.Tuple) else [target])
                             if isinstance(n, ast.Name)]
                    values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                    for name, value in zip(names, values):
                        if name.startswith("EVENT_") and isinstance(value, ast.Constant) \
                                and isinstance(value.value, str):
                            kinds.add(value.value)
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name not in ("log_event", "add_event"):
                    continue
                given = {k.arg: k.value for k in node.keywords}
                position = 0 if name == "log_event" else 1
                arg = given.get("kind", node.args[position] if len(node.args) > position else None)
                branches = [arg.body, arg.orelse] if isinstance(arg, ast.IfExp) else [arg]  # "a" if x else "b"
                kinds.update(b.value for b in branches if isinstance(b, ast.Constant) and isinstance(b.value, str))
                if isinstance(arg, ast.Name) and arg.id.isupper():
                    if module is None:
                        dotted = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                        module = importlib.import_module(dotted)
                    kinds.add(getattr(module, arg.id))
    return kinds


def test_every_event_kind_the_code_logs_reads_in_both_languages():
    """QA: the F10 log showed the raw kind "sign_in" among translated ones."""
    from tui.i18n import CATALOGUES

    kinds = logged_event_kinds()
    assert {"sign_in", "sign_out", "outcome", "basket_cancelled", "refund", "paper_near_end"} <= kinds  # the walk works
    for language, catalogue in CATALOGUES.items():
        missing = sorted(kind for kind in kinds if "event." + kind not in catalogue)
        assert missing == [], f"{language}: event kinds with no words: {missing}"
