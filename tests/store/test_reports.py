"""Shifts, X and Z reports: the money identities, the Z refused while work is open, Z numbers gapless and chained."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from store import baskets, documents, outcomes, print_attempts, reports, sales, shifts
from store.models import ZReport
from tests.store.helpers import catalogue

COLA, APPLE, BAG = "6901234567892", "2001", "42"


def sell(products, items, pays, cashier="c1", till_id="1"):
    basket = sales.Basket()
    for code, qty in items:
        basket.add(products[code], qty)
    tender = sales.Tender(basket.total_fen)
    for method, amount in pays:
        tender.add_payment(method, amount if amount is not None else tender.remaining_fen)
    return sales.commit_sale(basket, tender, till_id, cashier)


def printed(document):
    attempt = print_attempts.start_printing(document.id, "main")
    print_attempts.finish_printing(attempt.id, True)


def handwritten(document):
    attempt = print_attempts.start_printing(document.id, "main")
    print_attempts.finish_printing(attempt.id, False, "paper_out", "printer out of paper")
    outcomes.resolve(document.id, outcomes.HANDWRITTEN)


def test_a_day_closed_one_yuan_short(sqlite_database):
    """Open with ¥200, sell in cash, card and WeChat, refund one item, pay out ¥20, count ¥1 short."""
    products = catalogue()
    shifts.open_shift("1", 20000, cashier="c1")
    cash = sell(products, [(COLA, 2000)], [("cash", 1000)])  # 7.00, change 3.00
    card = sell(products, [(COLA, 1000), (BAG, 1000)], [("card", None)])  # 3.70
    wechat = sell(products, [(APPLE, 500)], [("wechat", None)])  # 6.40
    for document in (cash, card):
        printed(document)
    handwritten(wechat)
    line = documents.refundable(cash.id)[0]
    refund = documents.commit_refund(cash.id, [(line.line_id, 1000)], "1", "c1", reason="坏了")
    printed(refund)
    shifts.cash_out("1", 2000, "送货 delivery", "c1")
    x = reports.x_report("1")
    expected = 20000 + 700 - 350 - 2000
    assert x["cash"]["expected_fen"] == expected
    from store.models import TillCounter

    audit_head = TillCounter.get_by_id("1").audit_hash  # the audit chain as the Z closes (outcomes, the paid out)
    z = reports.close_z("1", counted_fen=expected - 100, cashier="c1")
    figures = reports.z_dict(z)["figures"]
    assert figures["audit_head"] == audit_head != "0" * 64
    assert figures["cash"]["over_short_fen"] == -100
    assert figures["receipts"]["handwritten_without_print"] == 1
    assert figures["journal_head"] == refund.hash and z.journal_head == refund.hash
    assert (figures["tenders"]["card"]["amount_fen"], figures["tenders"]["wechat"]["amount_fen"]) == (370, 640)
    assert (figures["first_receipt"], figures["last_receipt"]) == ("1-000001", "1-000004")
    assert shifts.current_shift("1") is None
    assert reports.verify_z().ok


def test_one_open_shift_per_till(sqlite_database):
    shifts.open_shift("1", 0)
    with pytest.raises(shifts.ShiftError) as caught:
        shifts.open_shift("1", 100)
    assert caught.value.code == "shift_open"
    shifts.open_shift("2", 100)  # another till has its own


def test_paid_out_above_the_cashier_limit_needs_a_manager(sqlite_database):
    shifts.open_shift("1", 10000)
    with pytest.raises(shifts.ShiftError) as caught:
        shifts.cash_out("1", 6000, "货款", "c1", limit_fen=5000)
    assert caught.value.code == "paid_out_needs_manager"
    shifts.cash_out("1", 6000, "货款", "c1", manager="m1", limit_fen=5000)
    assert reports.x_report("1")["cash"]["paid_out_fen"] == 6000


def test_z_refused_while_a_receipt_is_unresolved(sqlite_database):
    products = catalogue()
    shifts.open_shift("1", 0)
    sale = sell(products, [(COLA, 1000)], [("cash", None)])
    with pytest.raises(reports.ReportError) as caught:
        reports.close_z("1")
    assert caught.value.code == "z_unresolved_receipt" and caught.value.values["receipts"] == "1-000001"
    assert ZReport.select().count() == 0 and shifts.current_shift("1") is not None
    printed(sale)
    assert reports.close_z("1").z_no == 1


def test_z_refused_while_a_basket_is_open_or_held(sqlite_database):
    products = catalogue()
    basket = sales.Basket()
    basket.add(products[COLA], 1000)
    stored = baskets.save(None, "1", basket, [], "c1")
    basket_id = getattr(stored, "id", stored)
    with pytest.raises(reports.ReportError) as caught:
        reports.close_z("1")
    assert caught.value.code == "z_open_basket"
    baskets.hold(basket_id, "1", "等一下")
    with pytest.raises(reports.ReportError) as caught:
        reports.close_z("1")
    assert caught.value.code == "z_held_basket"
    assert ZReport.select().count() == 0


def test_z_numbers_are_gapless_per_till_and_an_edited_z_is_caught(sqlite_database):
    products = catalogue()
    for till in ("1", "1", "2", "1"):
        shifts.open_shift(till, 1000)
        printed(sell(products, [(COLA, 1000)], [("cash", None)], till_id=till))
        reports.close_z(till)
    assert [(z["till_id"], z["z_no"]) for z in reports.z_list()] == [("1", 1), ("1", 2), ("1", 3), ("2", 1)]
    # each shift counts only its own sale
    assert [z["figures"]["sales"]["count"] for z in reports.z_list("1")] == [1, 1, 1]
    assert reports.verify_z().ok
    database = sqlite_database
    import peewee

    with pytest.raises(peewee.IntegrityError):  # a Z row is never changed through the database either
        database.execute_sql("UPDATE z_report SET figures = '{}' WHERE z_no = 2")
    database.execute_sql("DROP TRIGGER z_report_no_update")  # a tamperer with the sqlite3 shell
    database.execute_sql("UPDATE z_report SET figures = replace(figures, '\"count\":1', '\"count\":0') "
                         "WHERE till_id = '1' AND z_no = 2")
    result = reports.verify_z()
    assert (result.ok, result.bad_till, result.bad_z_no) == (False, "1", 2)
    assert "changed" in result.message


def test_a_missing_z_is_named(sqlite_database):
    for _ in range(3):
        shifts.open_shift("1", 0)
        reports.close_z("1")
    sqlite_database.execute_sql("DROP TRIGGER z_report_no_delete")
    sqlite_database.execute_sql("DELETE FROM z_report WHERE z_no = 2")
    result = reports.verify_z()
    assert (result.ok, result.bad_z_no) == (False, 2) and "missing" in result.message


def test_x_changes_nothing(sqlite_database):
    shifts.open_shift("1", 500)
    before = reports.x_report("1")
    assert reports.x_report("1") == before and ZReport.select().count() == 0
    assert shifts.current_shift("1").closed_at is None


items = st.lists(st.tuples(st.sampled_from([COLA, APPLE, BAG]), st.integers(1, 3)), min_size=1, max_size=3)
sale_plan = st.tuples(items, st.sampled_from(["cash", "card", "wechat", "alipay", "split"]),
                      st.integers(0, 30), st.booleans(), st.sampled_from(["keep", "refund", "void"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plans=st.lists(sale_plan, min_size=1, max_size=5), float_fen=st.integers(0, 50000),
       paid_in=st.integers(0, 5000), paid_out=st.integers(0, 5000), counted=st.integers(0, 100000),
       before=st.integers(0, 2))
def test_money_identities(sqlite_database, plans, float_fen, paid_in, paid_out, counted, before):
    """... with the first ``before`` plans sold while no shift was open (their cash is in the float)."""
    from store.models import ALL_MODELS

    sqlite_database.execute_sql("DROP TRIGGER IF EXISTS z_report_no_delete")
    with sqlite_database.atomic():  # a fresh shop for each example
        for model in reversed(ALL_MODELS):
            if model.__name__ != "SchemaVersion":
                model.delete().execute()
    products = catalogue()
    for number, (lines, how, percent, rounding, then) in enumerate(plans):
        if number == min(before, len(plans) - 1):
            shifts.open_shift("1", float_fen)
        basket = sales.Basket()
        for code, qty in lines:
            basket.add(products[code], qty * (500 if code == APPLE else 1000))
        if percent:
            basket.set_discount(sales.DiscountSpec("percent", percent * 100, "老顾客", "c1", ""))
        if rounding:
            basket.set_rounding(sales.DiscountSpec("round", 10, "抹零", "c1", ""))
        tender = sales.Tender(basket.total_fen)
        if how == "split" and basket.total_fen > 1:
            tender.add_payment("card", basket.total_fen // 2)
            tender.add_payment("cash", basket.total_fen)  # overpaid in cash: change
        elif how == "cash":
            tender.add_payment("cash", basket.total_fen + 37)
        else:
            tender.add_payment("card" if how == "split" else how, basket.total_fen)
        sale = sales.commit_sale(basket, tender, "1", "c1")
        if then == "refund":
            line = documents.refundable(sale.id)[0]
            documents.commit_refund(sale.id, [(line.line_id, min(line.qty_milli, 1000))], "1", "c1")
        elif then == "void":
            documents.commit_void(sale.id, "1", "c1", reason="错了")
    if paid_in:
        shifts.cash_in("1", paid_in, "换零钱")
    if paid_out > shifts.drawer_fen("1"):  # more than the drawer holds: refused, nothing recorded
        with pytest.raises(shifts.ShiftError) as caught:
            shifts.cash_out("1", paid_out, "送货")
        assert caught.value.code == "paid_out_above_drawer"
        paid_out = 0
    if paid_out:
        shifts.cash_out("1", paid_out, "送货")
    f = reports.figures("1", counted_fen=counted)
    s = f["sales"]
    assert f["net_fen"] == s["gross_fen"] - s["discount_fen"] - s["rounding_fen"] - f["refunds"]["amount_fen"] \
        - f["voids"]["amount_fen"]
    assert sum(t["amount_fen"] for t in f["tenders"].values()) == f["net_fen"]
    c = f["cash"]
    assert c["expected_fen"] == (float_fen + c["sales_fen"] - c["refunds_fen"] - c["voids_fen"] + paid_in - paid_out
                                 - c["before_shift_fen"])
    assert c["over_short_fen"] == counted - c["expected_fen"]
    assert shifts.drawer_fen("1") == c["expected_fen"]  # what a paid out is checked against
    assert sum(row["net_fen"] for row in f["cashiers"]) == f["net_fen"] == sum(row["net_fen"] for row in f["hours"])


def test_a_drawer_counted_per_denomination_opens_and_closes_the_shift(sqlite_database):
    """Float 2 x ¥100 + 3 x ¥1 = ¥203.00; a ¥7.00 cash sale; the Z counted 2 x ¥100 + 1 x ¥10 -> ¥0.00 even."""
    import json

    products = catalogue()
    shift = shifts.open_shift("1", counts={10000: 2, 100: 3}, cashier="c1")
    assert shift.float_fen == 20300 and json.loads(shift.float_counts) == {"10000": 2, "100": 3}
    printed(sell(products, [(COLA, 2000)], [("cash", 1000)]))  # 7.00 in, 3.00 change out
    assert reports.x_report("1")["cash"]["float_counts"] == {"10000": 2, "100": 3}
    z = reports.close_z("1", counted_fen=21000, counts={10000: 2, 1000: 1, 50: 0}, cashier="c1")
    cash = reports.z_dict(z)["figures"]["cash"]
    assert (cash["expected_fen"], cash["counted_fen"], cash["over_short_fen"]) == (21000, 21000, 0)
    assert cash["counts"] == {"10000": 2, "1000": 1, "50": 0} and cash["float_counts"] == {"10000": 2, "100": 3}
    assert reports.verify_z().ok


def test_a_count_of_too_many_pieces_is_refused(sqlite_database):
    with pytest.raises(shifts.ShiftError):
        shifts.open_shift("1", counts={10000: shifts.MAX_PIECES + 1})
    assert shifts.current_shift("1") is None


def test_cash_taken_before_the_shift_is_in_the_float_not_counted_twice(sqlite_database):
    """¥7.00 sold in cash with no shift open (Esc on the float), then the drawer counted: the float of ¥207.00
    holds those ¥7.00, so after one more ¥7.00 cash sale the drawer should hold ¥214.00, not ¥221.00."""
    from printing.report import report_lines

    products = catalogue()
    printed(sell(products, [(COLA, 2000)], [("cash", 1000)]))  # 7.00 in, 3.00 change out, no shift
    shifts.open_shift("1", 20700, cashier="c1")
    printed(sell(products, [(COLA, 2000)], [("cash", 1000)]))
    cash = reports.x_report("1")["cash"]
    assert (cash["sales_fen"], cash["before_shift_fen"], cash["expected_fen"]) == (1400, 700, 21400)
    assert shifts.drawer_fen("1") == 21400
    z = reports.close_z("1", counted_fen=21400, cashier="c1")
    figures = reports.z_dict(z)["figures"]
    assert figures["cash"]["over_short_fen"] == 0
    lines = report_lines(figures, 48, language="en")
    before = [line for line in lines if line.startswith("  Sold before the shift")]
    assert len(before) == 1 and before[0].endswith(" -7.00")  # words a cashier reads at once, and why:
    assert lines[lines.index(before[0]) + 1] == "    (already in the float count)"
    assert not any("Taken" in line for line in lines)
    zh = report_lines(figures, 32, language="zh")
    assert zh[zh.index(next(line for line in zh if line.startswith("  开班前收的现金"))) + 1] == "    （已点在备用金里）"
    assert reports.verify_z().ok
    # the next shift starts after the Z: nothing before it
    shifts.open_shift("1", 21400)
    assert reports.x_report("1")["cash"]["before_shift_fen"] == 0


def test_a_z_made_before_the_before_shift_figure_still_verifies_and_prints(sqlite_database):
    """A Z stored without ``before_shift_fen`` (made by an older till) keeps its hash and prints as it did."""
    import json

    from printing.report import report_lines
    from store.models import GENESIS_HASH

    products = catalogue()
    shifts.open_shift("1", 10000)
    printed(sell(products, [(COLA, 1000)], [("cash", None)]))
    figures = reports.figures("1", counted_fen=10350)
    del figures["cash"]["before_shift_fen"]  # as an older till wrote them
    row = dict(till_id="1", z_no=1, closed_at=reports.now(), closed_by="c1",
               last_receipt_no=figures["last_receipt_no"], figures=figures, journal_head=figures["journal_head"],
               prev_hash=GENESIS_HASH)
    row["hash"] = reports.z_hash(GENESIS_HASH, row)
    ZReport.create(**dict(row, figures=reports.canonical(figures)))
    assert reports.verify_z().ok
    stored = reports.z_dict(ZReport.get())["figures"]
    assert "before_shift_fen" not in json.dumps(stored)
    assert not any("before the shift" in line for line in report_lines(stored, 48, language="en"))


def test_paying_out_more_than_the_drawer_holds_is_refused(sqlite_database):
    """Float ¥100 + ¥3.50 cash: ¥103.50 may be paid out, ¥103.51 not (even with a manager)."""
    products = catalogue()
    shifts.open_shift("1", 10000)
    printed(sell(products, [(COLA, 1000)], [("cash", None)]))
    with pytest.raises(shifts.ShiftError) as caught:
        shifts.cash_out("1", 10351, "货款", "c1", manager="m1")
    assert caught.value.code == "paid_out_above_drawer"
    assert caught.value.values == dict(amount_fen=10351, expected_fen=10350)
    assert reports.x_report("1")["cash"]["paid_out_fen"] == 0
    shifts.cash_out("1", 10350, "货款", "c1", manager="m1")
    assert shifts.drawer_fen("1") == 0


def test_the_x_and_the_z_list_the_float_notes_in_one_order_the_biggest_first(sqlite_database):
    """The float counted 2 x ¥100, 1 x ¥10, 3 x ¥1, 4 x 5角: the X (figures as made) and the Z (read back from
    its JSON, sorted as text there) list those notes in the same order, as the count asks them."""
    from printing.report import report_lines

    shifts.open_shift("1", counts={100: 3, 10000: 2, 50: 4, 1000: 1}, cashier="c1")

    def notes(lines):
        return [line.split()[0] for line in lines if " x " in line]

    x_notes = notes(report_lines(reports.x_report("1"), 48, kind="X", language="en"))
    z = reports.z_dict(reports.close_z("1", counted_fen=20520, cashier="c1"))
    assert x_notes == notes(report_lines(z["figures"], 48, language="en")) == ["100.00", "10.00", "1.00", "0.50"]


def test_the_x_and_the_z_list_the_tenders_in_one_order_with_the_counts_in_one_column(sqlite_database):
    """The Z's figures come back from its JSON sorted by name: it still lists cash, card, WeChat, Alipay as the X
    does, and every tender's count ends in the same column whatever its amount."""
    from printing.report import report_lines

    products = catalogue()
    shifts.open_shift("1", 10000)
    printed(sell(products, [(COLA, 300000)], [("cash", None)]))  # ¥1050.00
    for pays in ([("card", None)], [("wechat", None)], [("alipay", None)], [("cash", None)]):
        printed(sell(products, [(COLA, 1000)], pays))
    x_lines = report_lines(reports.x_report("1"), 32, kind="X", language="en")
    z_lines = report_lines(reports.z_dict(reports.close_z("1", counted_fen=10700))["figures"], 32, language="en")

    def tenders(lines):
        start = lines.index("Tenders") + 1
        return lines[start:start + 4]

    assert [line.split()[0] for line in tenders(x_lines)] == ["Cash", "Card", "WeChat", "Alipay"]
    assert [line.split()[0] for line in tenders(z_lines)] == ["Cash", "Card", "WeChat", "Alipay"]
    count_ends = {len(line[:line.rindex(" ")].rstrip()) for line in tenders(z_lines)}  # before the amount
    assert len(count_ends) == 1, tenders(z_lines)  # the count ends in one column (¥1053.50 of cash, ¥3.50 of card)
