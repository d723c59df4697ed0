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


@dataclass(frozen=True)
class ReceiptPayment:
    """One tender of a sale; ``reference`` is the card/WeChat/Alipay transaction number."""

    method: str
    amount_fen: int
    reference: str = ""


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
    discount_fen: int = 0
    shop_address: str = ""
    shop_phone: str = ""
    shop_tax_id: str = ""
    header: str = ""
    footer: str = ""
    qr_payload: str = ""
    reprint_no: int = 0
    reprinted_at: Optional[datetime] = None
    language: str = "zh"
    # 副本 COPY: a print that follows an interrupted one (the first may have come out)
    copy: bool = False
    # a correction: "refund" (退货) or "void" (作废) of the receipt ``original_no``; amounts are money going back
    kind: str = "sale"
    original_no: str = ""
    reason: str = ""

    @property
    def money_back(self) -> bool:
        return self.kind != "sale"
