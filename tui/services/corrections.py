"""The history's T (退货 refund) and V (作废 void) as plain rules: what can come back, the money back, the commit.

Plain Python, no Textual: tui/screens/refund.py works out the refund with
these from values read before it opened (on the UI thread, no store work);
tui/screens/history.py runs the reads and commits off the UI thread. The
store (store.documents) decides and refuses, under its write lock.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from store.errors import ServerError
from store.models import Payment, Sale


@dataclass(frozen=True)
class RefundChoice:
    """What the cashier chose: (line id, qty in thousandths) and the payments back (None: the original tenders)."""

    items: Tuple[Tuple[int, int], ...]
    payments: Optional[Tuple[Tuple[str, int], ...]]
    total_fen: int
    damaged: Tuple[int, ...] = ()  # line ids whose goods do not go back on the shelf (the rest do)

    def restock(self, line_id: int) -> bool:
        """Does this line's returned quantity go back on the shelf (into on hand)?"""
        return line_id not in self.damaged


#: The note of a refund of this till's own receipt while the named server does not answer (i18n
#: history.refund_offline_own; store.refund_claims.OFFLINE_OWN says it in English).
OFFLINE_OWN_NOTE = "refund_offline_own"


class Committed(NamedTuple):
    """A committed refund or void, as the till prints and says it."""

    document_id: int
    number: str  # the document's receipt number, formatted
    amount: str  # its total, formatted
    cash_back: bool  # cash goes back: the drawer opens with its receipt
    note: str = ""  # what to say with it, a code ("" none): OFFLINE_OWN_NOTE (the i18n key history.<code>)


def refund_choices(sale_id: int, server_url: str = "", till_id: str = "") -> Tuple[List[Any], Dict[str, int]]:
    """A sale's lines with what is left to refund of each, and what each original tender can still take back:
    with a server that answers, less what other tills already gave back of it or are giving back now (their
    refund claims); offline: this till's own."""
    lines, room, _note = noted_refund_choices(sale_id, server_url, till_id)
    return lines, room


def noted_refund_choices(sale_id: int, server_url: str = "", till_id: str = ""
                         ) -> Tuple[List[Any], Dict[str, int], str]:
    """refund_choices and the note to show with them: OFFLINE_OWN_NOTE when a server is named but does not
    answer (other tills' refunds of it may not be known yet), else ""; store and network work."""
    from store import documents

    elsewhere, given, answered = _given_elsewhere(sale_id, server_url, till_id)
    room = documents.refund_room(sale_id)
    return (documents.refundable(sale_id, elsewhere),
            {method: amount - given.get(method, 0) for method, amount in room.items()},
            OFFLINE_OWN_NOTE if server_url and not answered else "")


def _given_elsewhere(sale_id: int, server_url: str, till_id: str
                     ) -> Tuple[Dict[int, Tuple[int, int]], Dict[str, int], bool]:
    """What other tills gave back (or claimed) of this till's sale, from the server, and whether it answered;
    nothing when none is named or answers."""
    if not server_url:
        return {}, {}, False
    from store import shop_wide
    from store.documents import DocumentError

    try:
        conn = shop_wide.connect(server_url)
    except Exception:  # noqa: BLE001 - offline: this till's own receipts are refunded from what it knows
        return {}, {}, False
    try:
        elsewhere, given, voided = shop_wide.own_elsewhere(conn, till_id, sale_id)
    except Exception:  # noqa: BLE001 - the server failed mid-read: as offline
        return {}, {}, False
    finally:
        conn.close()
    if voided:
        from store.numbering import format_receipt_no

        sale = Sale.get_by_id(sale_id)
        number = format_receipt_no(sale.till_id, sale.receipt_no)
        raise DocumentError(f"Receipt {number} was voided.", "voided", receipt=number)
    return elsewhere, given, True


def all_refunded(lines: Sequence[Any]) -> bool:
    """True when nothing of a sale's lines (store.documents.Refundable) is left to refund."""
    return not any(line.remaining_qty > 0 for line in lines)


def refund_total_fen(lines: Iterable[Any], qty: Mapping[int, int]) -> int:
    """What refunding ``qty`` (line id -> thousandths) of ``lines`` gives back, each line its share of what was paid."""
    return sum(line.refund_fen(qty[line.line_id]) for line in lines if qty.get(line.line_id))


def shelf_answer(text: str) -> Optional[bool]:
    """The cashier's answer to "back on the shelf?" for a returned line: Enter or Y yes, N no (damaged); None
    for anything else (asked again)."""
    from store.money import typed

    answer = typed(text).strip().lower()  # Ｙ from a Chinese input method
    if answer in ("", "y", "是"):
        return True
    if answer in ("n", "否"):
        return False
    return None


def refund_payments(room: Dict[str, int], total_fen: int, all_cash: bool) -> List[Tuple[str, int]]:
    """How ``total_fen`` goes back: all in cash, or to the original tenders (non-cash first, within their room)."""
    from store.documents import plan_refund_payments

    if all_cash:
        return [("cash", total_fen)] if total_fen else []
    return plan_refund_payments(room, total_fen)


def commit_refund(sale_id: int, choice: RefundChoice, till_id: str, cashier: Optional[str],
                  manager: Optional[str], server_url: str = "") -> Committed:
    """Commit the refund the cashier chose of this till's own sale as a new document; store and network work.

    With a server that answers, under a claim on it (store.refund_claims): what other tills gave back of it,
    or are giving back at this moment, is counted. A server named but not answering: committed from what this
    till knows, and ``note`` says other tills' refunds of it may not be known yet (OFFLINE_OWN)."""
    from store import documents, shop_wide

    payments = list(choice.payments) if choice.payments is not None else None
    items = [(line_id, qty, choice.restock(line_id)) for line_id, qty in choice.items]  # damaged: on hand stays
    note = ""
    if server_url:
        try:
            conn = shop_wide.connect(server_url)
        except Exception:  # noqa: BLE001 - offline: this till's own receipts are refunded from what it knows
            conn = None
        if conn is not None:
            try:
                document = shop_wide.claimed_own_refund(conn, sale_id, items, till_id, cashier or None,
                                                        manager or None, "", payments)
            except ServerError:  # the server failed before anything was claimed: as offline
                document = None
                note = OFFLINE_OWN_NOTE
            finally:
                conn.close()
            if document is not None:
                return committed(document)
        else:
            note = OFFLINE_OWN_NOTE
    document = documents.commit_refund(sale_id, items, till_id, cashier or None, manager or None, "", payments)
    return committed(document, note)


# ---------------------------------------------------------------- another till's receipt (through the server)

def other_till_receipt(text: str, till_id: str) -> bool:
    """Does the history's search box name a receipt of another till ("1-000123" on till 2)?"""
    from store.money import typed
    from store.shop_wide import parse_receipt

    parsed = parse_receipt(typed(text or ""))
    return parsed is not None and parsed[0] != str(till_id)


def _server(server_url: str) -> Any:
    """A short connection to the shop's server, or ShopWideError OFFLINE_REFUND (no server, or none answers)."""
    from store import shop_wide

    offline = shop_wide.ShopWideError(shop_wide.OFFLINE_REFUND[0].upper() + shop_wide.OFFLINE_REFUND[1:] + ".",
                                      "refund_offline")
    if not server_url:
        raise offline
    try:
        return shop_wide.connect(server_url)
    except Exception as exc:
        raise offline from exc


def foreign_refund_choices(server_url: str, till_id: str, text: str) -> Any:
    """Another till's receipt from the server, copied here (store.shop_wide.ForeignReceipt: its lines with what
    is left to refund shop-wide, and each tender's room); store and network work."""
    from store import shop_wide
    from store.money import typed

    conn = _server(server_url)
    try:
        return shop_wide.foreign_receipt(conn, till_id, typed(text))
    finally:
        conn.close()


def commit_foreign_refund(server_url: str, receipt: Any, choice: RefundChoice, till_id: str, cashier: Optional[str],
                          manager: Optional[str]) -> Committed:
    """Commit the refund of another till's receipt as this till's own document; store and network work."""
    from store import shop_wide

    payments = list(choice.payments) if choice.payments is not None else None
    items = [(line_id, qty, choice.restock(line_id)) for line_id, qty in choice.items]
    conn = _server(server_url)
    try:
        document = shop_wide.commit_foreign_refund(conn, receipt, items, till_id, cashier or None, manager or None,
                                                   "", payments)
    finally:
        conn.close()
    return committed(document)


def refused_refunds(document_id: int) -> List[str]:
    """The provider refunds of a refund or void document that the provider refused (their out_refund_no): what
    the history's P asks again, with the same numbers; store work."""
    from store import provider_refunds

    return [row.out_refund_no for row in provider_refunds.of_document(document_id)
            if row.state == provider_refunds.FAILED]


def check_voidable(sale_id: int) -> None:
    """Raise store.documents.DocumentError unless the sale can be voided (of today, not refunded or voided)."""
    from store import documents

    documents.voidable(Sale.get_by_id(sale_id))


def commit_void(sale_id: int, till_id: str, cashier: Optional[str], manager: str, reason: str,
                server_url: str = "") -> Committed:
    """Void a whole sale of today as a new document, with the manager who allowed it and why; store and network
    work. With a server that answers, under a claim of all its lines (store.shop_wide.claimed_own_void): a refund
    of it made on another till is counted (the void is refused), and no other till refunds it meanwhile; offline,
    from what this till knows."""
    from store import documents, shop_wide

    if server_url:
        try:
            conn = shop_wide.connect(server_url)
        except Exception:  # noqa: BLE001 - offline: voided from what this till knows
            conn = None
        if conn is not None:
            try:
                document = shop_wide.claimed_own_void(conn, sale_id, till_id, cashier or None, manager, reason)
            except ServerError:  # the server failed before anything was claimed: as offline
                document = None
            finally:
                conn.close()
            if document is not None:
                return committed(document)
    return committed(documents.commit_void(sale_id, till_id, cashier or None, manager, reason))


def committed(document: Any, note: str = "") -> Committed:
    """A committed document's id, number and amount, and whether cash goes back with it; store work."""
    from store.money import format_yuan
    from store.numbering import format_receipt_no

    cash = Payment.select().where((Payment.sale == document.id) & (Payment.method == "cash")).exists()
    return Committed(document.id, format_receipt_no(document.till_id, document.receipt_no),
                     format_yuan(document.total_fen), cash, note)
