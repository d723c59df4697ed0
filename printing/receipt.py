"""The receipt value: what a receipt says, independent of paper and printer."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Tuple

METHODS = ("cash", "card", "wechat", "alipay")


@dataclass(frozen=True)
class ReceiptLine:
    """One row of a sale. ``amount_fen`` is before ``discount_fen`` (shown below it)."""

    name: str
    qty_milli: int
    unit_price_fen: int
    amount_fen: int
    unit: str = ""
    discount_fen: int = 0
    discount_note: str = ""  # what and why: "10% 临期"
    list_price_fen: Optional[int] = None  # a price override: the list unit price (None: no override)
    price_note: str = ""  # why the price changed


@dataclass(frozen=True)
class ReceiptAdjustment:
    """A basket discount (``kind`` "discount") or 抹零 ("rounding"), below the subtotal."""

    kind: str
    amount_fen: int
    note: str = ""


@dataclass(frozen=True)
class ReceiptPayment:
    """One tender of a sale; ``reference`` is the card/WeChat/Alipay transaction number.

    ``transaction``: the till charged it through the provider, so the reference is the provider's own
    transaction number (交易单号), not one a cashier typed."""

    method: str
    amount_fen: int
    reference: str = ""
    transaction: bool = False


@dataclass(frozen=True)
class Receipt:
    """Everything a printed receipt shows, as plain values (money in fen)."""

    shop_name: str
    receipt_no: str
    till_id: str
    cashier: str
    sold_at: datetime
    lines: Tuple[ReceiptLine, ...]
    total_fen: int
    payments: Tuple[ReceiptPayment, ...] = ()
    change_fen: int = 0
    discount_fen: int = 0  # what comes off the subtotal (the adjustments' sum when there are any)
    shop_address: str = ""
    shop_phone: str = ""
    shop_tax_id: str = ""
    header: str = ""
    footer: str = ""
    qr_payload: str = ""
    reprint_no: int = 0
    reprinted_at: Optional[datetime] = None
    language: str = "zh"
    # 副本 COPY: a print that follows an interrupted or unconfirmed one (the first may have come out)
    copy: bool = False
    adjustments: Tuple[ReceiptAdjustment, ...] = ()  # each basket discount and 抹零, with its amount
    # a correction: "refund" (退货) or "void" (作废) of the receipt ``original_no``; amounts are money going back
    kind: str = "sale"
    original_no: str = ""
    reason: str = ""
    manager: str = ""  # who allowed the refund or void (their name), printed under the reason

    @property
    def money_back(self) -> bool:
        return self.kind != "sale"
