"""The till's small parts: catalogues, keymap, language choice, entry parsing, QR, lazy imports."""
from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_catalogues_have_the_same_keys_and_placeholders():
    import string

    from tui.i18n import CATALOGUES

    zh, en = CATALOGUES["zh"], CATALOGUES["en"]
    assert set(zh) == set(en)
    for key in zh:
        names = [{f[1] for f in string.Formatter().parse(text) if f[1]} for text in (zh[key], en[key])]
        assert names[0] == names[1], key
        assert zh[key].strip() and en[key].strip(), key


def test_every_key_has_a_unique_id_and_a_translated_label():
    from tui import keymap
    from tui.i18n import CATALOGUES

    ids = [key.id for group in keymap.KEYS.values() for key in group]
    assert len(ids) == len(set(ids))
    for group in keymap.KEYS.values():
        keys_in_group = [k for key in group for k in key.key.split(",")]
        assert len(keys_in_group) == len(set(keys_in_group)), group
        for key in group:
            for catalogue in CATALOGUES.values():
                assert key.label in catalogue, key.id


def test_widgets_hold_no_text_of_their_own():
    """Every t("...") key used in tui/ exists in both catalogues."""
    import re

    from tui.i18n import CATALOGUES

    used = set()
    for path in (ROOT / "tui").rglob("*.py"):
        used |= set(re.findall(r'\bt\(\s*"([a-z_]+\.[a-z_.]+)"\s*[,)]', path.read_text(encoding="utf-8")))
    assert used
    for key in used:
        assert key in CATALOGUES["zh"] and key in CATALOGUES["en"], key


@pytest.mark.parametrize("setting, env, expected", [
    ("zh", {"TERM": "linux"}, "zh"),
    ("en", {"LANG": "zh_CN.UTF-8"}, "en"),
    ("auto", {"TERM": "linux", "LANG": "zh_CN.UTF-8"}, "en"),
    ("auto", {"TERM": "xterm-256color", "LANG": "zh_CN.UTF-8"}, "zh"),
    ("auto", {"TERM": "xterm-256color", "LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ("auto", {"TERM": "xterm", "LANG": "C.UTF-8"}, "en"),
])
def test_language_auto_picks_english_on_the_linux_console(setting, env, expected):
    from tui.i18n import resolve_language

    assert resolve_language(setting, env) == expected


@pytest.mark.parametrize("text, expected", [
    ("6901234567892", (1000, "6901234567892")),
    ("3*6901234567892", (3000, "6901234567892")),
    ("1.5*1", (1500, "1")),
    (" 2 * 7 ", (2000, "7")),
])
def test_entry_quantity_prefix(text, expected):
    from tui.screens.sale import parse_entry

    assert parse_entry(text) == expected


@pytest.mark.parametrize("text", ["x*1", "0*1", "-1*1", "*1"])
def test_entry_bad_quantity(text):
    from tui.screens.sale import parse_entry

    with pytest.raises(ValueError):
        parse_entry(text)


def receipt(lines=3):
    from printing.receipt import Receipt, ReceiptLine, ReceiptPayment

    rows = tuple(ReceiptLine(f"商品{i} Item {i}", 1000 * (i + 1), 250, 250 * (i + 1), "个") for i in range(lines))
    total = sum(r.amount_fen for r in rows)
    return Receipt(shop_name="超赢小店", receipt_no="1-000042", till_id="1", cashier="", sold_at=datetime(2026, 1, 2, 3, 4),
                   lines=rows, total_fen=total, payments=(ReceiptPayment("cash", total + 100),), change_fen=100)


def test_qr_payload_is_the_receipt_itself():
    from tui.qr import qr_payload

    text = qr_payload(receipt())
    for part in ("超赢小店", "1-000042", "2026-01-02 03:04", "商品0 Item 0", "商品2 Item 2", "15.00", "找零 1.00"):
        assert part in text


def test_qr_fits_the_rows_it_is_given_and_shrinks_the_payload_only_when_needed():
    from tui.qr import fit_qr, qr_payloads

    big = receipt(lines=12)
    payload, lines, fits = fit_qr(big, 200)
    assert fits and payload == qr_payloads(big)[0]
    payload, lines, fits = fit_qr(big, 24)
    assert fits and len(lines) <= 24 and payload != qr_payloads(big)[0]
    assert "1-000042" in payload and "合计" in payload


def test_half_blocks_draw_exactly_the_modules():
    from tui.qr import half_block_lines, qr_matrix

    matrix = qr_matrix("超赢 1-000042 ￥3.00", border=2)
    lines = half_block_lines(matrix)
    assert len(lines) == (len(matrix) + 1) // 2
    for y, line in enumerate(lines):
        for x, char in enumerate(line):
            top = matrix[2 * y][x]
            bottom = matrix[2 * y + 1][x] if 2 * y + 1 < len(matrix) else False
            assert char == {(False, False): " ", (True, False): "\u2580",
                            (False, True): "\u2584", (True, True): "\u2588"}[(top, bottom)]


def test_half_block_qr_scans():
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    from tui.qr import fit_qr

    payload, lines, _ = fit_qr(receipt(), 24)
    scale = 5
    image = Image.new("L", ((len(lines[0]) + 8) * scale, (2 * len(lines) + 8) * scale), 255)
    pixels = image.load()
    for y, line in enumerate(lines):
        for x, char in enumerate(line):
            for half, dark in ((0, char in "\u2580\u2588"), (1, char in "\u2584\u2588")):
                if dark:
                    for i in range(scale):
                        for j in range(scale):
                            pixels[(x + 4) * scale + i, (2 * y + half + 4) * scale + j] = 0
    found = zxingcpp.read_barcodes(image)
    assert [code.text for code in found] == [payload]


def test_the_till_starts_without_printing_escpos_or_qrcode():
    """Lazy imports keep start-up fast: only a print, the QR view or the H view load them."""
    code = (
        "import sys; import tui.cli, tui.cli.till, tui.app, tui.screens.sale, tui.services.till;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('escpos', 'qrcode', 'serial', 'PIL')"
        " or m in ('printing.printer', 'printing.encode', 'printing.layout', 'printing.virtual')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT), check=True)
    assert out.stdout.strip() == "[]"


def test_every_method_state_and_fault_has_words():
    from store.outcomes import STATES
    from store.sales import METHODS
    from tui.demo import FAULT_STATES
    from tui.i18n import CATALOGUES
    from tui.screens.demo_views import FAULTS

    assert set(FAULTS) == set(FAULT_STATES)
    from printing.virtual import STATES as PRINTER_STATES

    # every fault `printer simulate` offers (garbage and error are for tests only)
    assert set(FAULT_STATES.values()) == set(PRINTER_STATES) - {"garbage", "error"}
    for catalogue in CATALOGUES.values():
        for key in [f"method.{m}" for m in METHODS] + [f"status.{s}" for s in STATES] + \
                   [f"demo.fault.{f}" for f in FAULTS]:
            assert key in catalogue, key


def test_no_screen_module_imports_itself_back_through_others():
    """No import circle among tui/screens/*.py, counting the imports inside functions (F9/F10 go via browse)."""
    import ast
    from pathlib import Path

    import tui.screens

    folder = Path(tui.screens.__file__).parent
    imports = {}
    for path in folder.glob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        imports["tui.screens." + path.stem] = {n for n in names if n.startswith("tui.screens.")}
    assert imports["tui.screens.browse"] >= {"tui.screens.history", "tui.screens.events"}  # the check sees them

    def reached(start):
        seen, todo = set(), list(imports.get(start, ()))
        while todo:
            module = todo.pop()
            if module not in seen:
                seen.add(module)
                todo.extend(imports.get(module, ()))
        return seen

    assert [module for module in sorted(imports) if module in reached(module)] == []
