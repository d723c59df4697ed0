"""Words a new cashier reads: one item (not "1 items"), event details and printer names in the UI language."""
from __future__ import annotations

import pytest


@pytest.fixture
def speak():
    from tui import i18n

    before = i18n.language()
    yield i18n.set_language
    i18n.set_language(before)


def test_a_count_of_one_is_singular_in_english(speak):
    from tui.i18n import t

    speak("en")
    assert t("sale.items", count=1) == "1 item" and t("sale.items", count=2) == "2 items"
    assert t("history.count", count=1) == "1 receipt found" and t("history.count", count=0) == "0 receipts found"
    assert t("banner.more", count=1) == "1 more receipt to resolve"
    speak("zh")
    assert t("history.count", count=1) == "找到 1 张小票"


@pytest.mark.parametrize("kind, stored, shown", [
    ("outcome", "printing -> printed", "正在打印 -> 已打印"),
    ("outcome", "pending -> printing", "等待打印 -> 正在打印"),
    ("outcome", "printing -> failed (paper_out: printer out of paper)", "正在打印 -> 未打印 (打印机缺纸)"),
    ("outcome", "printing -> failed (interrupted)", "正在打印 -> 未打印 (打印时收银机被关掉了)"),
    ("outcome", "failed -> handwritten", "未打印 -> 手写小票"),
    ("printer_status", "unknown -> paper_out", "未知 -> 打印机缺纸"),
    ("reprint", "reprint 2", "补打2"),
    ("print_failed", "paper_out: printer out of paper", "打印机缺纸"),
    ("outcome", "printing -> failed (odd_code: a new fault)", "正在打印 -> 未打印 (odd_code: a new fault)"),
    ("sign_in", "ready", "ready"),  # a cashier's name is not a state
])
def test_event_details_are_shown_in_chinese_by_their_parts(speak, kind, stored, shown):
    from tui.screens.events import detail_text

    speak("zh")
    assert detail_text(kind, stored) == shown


def test_event_details_read_the_same_in_english(speak):
    from tui.screens.events import detail_text

    speak("en")
    assert detail_text("outcome", "printing -> failed (paper_out: printer out of paper)") == \
        "printing -> not printed (printer out of paper)"


def test_the_spare_printer_is_named_in_the_ui_language(speak):
    from tui.screens.events import EventsScreen
    from tui.screens.history import detail_text

    speak("zh")
    sale = {"receipt": "1-000001", "sold_at": "2026-11-29 08:00:00", "cashier": "", "lines": [], "total": "1.00",
            "payments": [], "change_fen": 0, "outcome": "printed",
            "print_attempts": [{"started_at": "2026-11-29 08:00:01", "reprint_no": 0, "printer": "backup",
                                "result": "printed", "cashier": "", "reason": ""},
                               {"started_at": "2026-11-29 08:00:00", "reprint_no": 0, "printer": "main",
                                "result": "failed", "cashier": "", "reason_code": "paper_out",
                                "reason": "printer out of paper"}]}
    text = detail_text(sale).plain
    assert "备用打印机 已打印" in text and "backup" not in text
    assert "打印机缺纸" in text and "paper" not in text  # the stored English reason, shown by its code
    row = {"printer": "backup", "kind": "outcome", "detail": "printing -> printed"}
    assert EventsScreen.detail_of(row) == "[备用打印机] 正在打印 -> 已打印"
