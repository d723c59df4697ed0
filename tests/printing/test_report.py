"""The X/Z report layout at 58 and 80 mm (golden files) and a Z printed on the virtual printer."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from printing.layout import text_width
from printing.report import encode_report, print_report, report_lines
from printing.virtual import VirtualPrinter

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CHAOYING_UPDATE_GOLDEN") == "1"


def z_figures() -> dict:
    """The figures of the issue's day: ¥200 float, cash, card and WeChat, one refund, ¥20 paid out, ¥1 short."""
    tender = lambda count, amount: dict(count=count, amount_fen=amount)  # noqa: E731
    return dict(
        till_id="1", shift=3, opened_at="2024-05-01 08:00:00",
        sales=dict(count=3, gross_fen=1710, discount_fen=0, rounding_fen=0, amount_fen=1710),
        refunds=dict(count=1, amount_fen=350), voids=dict(count=0, amount_fen=0), net_fen=1360,
        tenders=dict(cash=tender(1, 350), card=tender(1, 370), wechat=tender(1, 640), alipay=tender(0, 0)),
        failed_payments=dict(count=1, amount_fen=640),
        cash=dict(float_fen=20000, sales_fen=700, refunds_fen=350, voids_fen=0, paid_in_fen=0, paid_out_fen=2000,
                  expected_fen=18350, counted_fen=18250, over_short_fen=-100, counts={"10000": 1, "5000": 1, "2000": 1, "1000": 1, "200": 1, "50": 1}),
        cashiers=[dict(cashier="01", count=3, net_fen=1360)],
        hours=[dict(hour="09", count=2, net_fen=720), dict(hour="10", count=1, net_fen=640)],
        top_products=[dict(barcode="2001", name="红富士苹果（特级）", qty_milli=500, amount_fen=640),
                      dict(barcode="42", name="塑料袋", qty_milli=1000, amount_fen=20)],
        receipts=dict(documents=4, printed_by_printer=2, printed_by_cashier=1, reprints=1, handwritten=1,
                      handwritten_without_print=1, e_receipt=0, declined=0, unresolved=0, print_attempts=5,
                      failed_attempts=1),
        events=dict(no_sale=2, basket_cancelled=1, payment_handed_back=0),
        first_receipt="1-000001", last_receipt="1-000004", last_receipt_no=4,
        journal_head="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    )


CASES = {
    "z_report_zh_58.txt": (32, "zh"),
    "z_report_zh_80.txt": (48, "zh"),
    "z_report_en_80.txt": (48, "en"),
}


def z_lines(columns: int, language: str = "zh") -> list:
    return report_lines(z_figures(), columns, "Z", 7, "2024-05-01 22:05:00", "超赢小店", language)


@pytest.mark.parametrize("name", sorted(CASES))
def test_z_layout_matches_golden_file(name):
    columns, language = CASES[name]
    text = "\n".join(z_lines(columns, language)) + "\n"
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), "golden file %s is missing (run with CHAOYING_UPDATE_GOLDEN=1)" % path
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("columns", [32, 48])
def test_every_line_fits_and_the_z_says_short_and_the_head(columns):
    lines = z_lines(columns)
    assert all(text_width(line) <= columns for line in lines)
    assert any(line.startswith("  短款") and line.endswith("1.00") for line in lines)
    assert "".join(line for line in lines if set(line) <= set("0123456789abcdef")) == z_figures()["journal_head"]


@pytest.mark.parametrize("width", [58, 80])
def test_a_z_printed_on_the_virtual_printer(tmp_path, width):
    from printing.config import PrinterConfig

    with VirtualPrinter(tmp_path / "lp", tmp_path / "paper", width=width) as printer:
        config = PrinterConfig(port=str(printer.link), width=width)
        lines = z_lines(config.columns)
        result = print_report(lines, config)
        assert printer.wait_for(lambda v: v.receipts >= 1, 5), "the Z was never cut"
        paper = printer.receipt_path(1).read_text(encoding="utf-8").splitlines()
    assert result.ok, result
    assert [line for line in paper if line.strip()] == [line for line in lines if line.strip()]
    assert "短款" in printer.receipt_path(1, ".bin").read_bytes().decode("gb18030", "replace")


def test_a_z_job_is_gb18030():
    job = encode_report(["短款 1.00"])
    assert "短款".encode("gb18030") in job and job.startswith(b"\x1b@\x1c&")


def test_bad_columns_are_refused():
    with pytest.raises(ValueError):
        report_lines(z_figures(), 40)




def test_a_float_counted_per_denomination_is_printed_under_the_float():
    figures = z_figures()
    figures["cash"] = dict(figures["cash"], float_counts={"10000": 2, "100": 3}, counts={})
    lines = report_lines(figures, 32, "Z", 7, "2024-05-01 22:05:00", "超赢小店", "zh")
    at = lines.index("  备用金                  200.00")  # the figure z_figures() gives; the counts follow it
    assert lines[at + 1:at + 3] == ["    100.00 x 2            200.00", "    1.00 x 3                3.00"]
    assert not any(" x " in line for line in lines[at + 3:])


@pytest.mark.parametrize("language, open_title, no_shift_title", [
    ("en", "X REPORT (shift open)", "X REPORT (no shift open)"),
    ("zh", "X 报表（未结班）", "X 报表（未开班）"),
])
def test_an_x_with_no_shift_open_does_not_say_the_shift_is_open(language, open_title, no_shift_title):
    figures = z_figures()
    assert open_title in [line.strip() for line in report_lines(figures, 48, "X", language=language)]
    figures.update(shift=None, opened_at=None)  # the X before any shift: everything since the last Z
    titles = [line.strip() for line in report_lines(figures, 48, "X", language=language)]
    assert no_shift_title in titles and open_title not in titles
