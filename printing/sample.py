"""A sample Chinese receipt for `chaoying printer test`, the demo and the benchmark."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from printing.receipt import Receipt, ReceiptLine, ReceiptPayment

_ITEMS = (
    ("农夫山泉饮用天然水 550ml", 3000, 200),
    ("康师傅红烧牛肉面", 2000, 450),
    ("Coca-Cola 可口可乐 330ml", 1000, 300),
    ("散装鸡蛋", 1250, 1280),
    ("金龙鱼食用调和油 5L 超值装（限时特惠）", 1000, 6990),
    ("伊利纯牛奶 250ml×24盒", 1000, 6500),
    ("奥利奥原味夹心饼干", 1000, 1090),
    ("有机大白菜", 2350, 398),
    ("海天金标生抽 1.28L", 1000, 1590),
    ("得力中性笔 0.5mm 黑色", 5000, 150),
)


def sample_receipt(
    language: str = "zh",
    sold_at: Optional[datetime] = None,
    reprint_no: int = 0,
    reprinted_at: Optional[datetime] = None,
    qr_payload: str = "https://chaoying.example/r/1-000042",
) -> Receipt:
    """A 10-line receipt with Chinese and mixed names, a weighed item, discounts, two payments and a QR payload."""
    lines = []
    for name, qty_milli, price in _ITEMS:
        amount = (price * qty_milli + 500) // 1000
        lines.append(ReceiptLine(name=name, qty_milli=qty_milli, unit_price_fen=price, amount_fen=amount,
                                 unit="kg" if qty_milli % 1000 else ""))
    lines[4] = ReceiptLine(lines[4].name, lines[4].qty_milli, lines[4].unit_price_fen, lines[4].amount_fen,
                           discount_fen=500)
    subtotal = sum(line.amount_fen - line.discount_fen for line in lines)
    discount = 100
    total = subtotal - discount
    wechat = 10000
    cash = ((total - wechat) // 1000 + 1) * 1000
    return Receipt(
        shop_name="超赢便利店（建国路店）",
        receipt_no="1-000042",
        till_id="1",
        cashier="王小明",
        sold_at=sold_at or datetime(2024, 5, 1, 10, 30, 0),
        lines=tuple(lines),
        total_fen=total,
        payments=(
            ReceiptPayment("wechat", wechat, "4200001234202405011234567890"),
            ReceiptPayment("cash", cash),
        ),
        change_fen=cash + wechat - total,
        discount_fen=discount,
        shop_address="北京市朝阳区建国路88号",
        shop_phone="010-12345678",
        shop_tax_id="91110105MA01234567",
        header="会员日 全场满100减1元",
        footer="谢谢惠顾，欢迎再次光临\n请保留小票作为退换凭证",
        qr_payload=qr_payload,
        reprint_no=reprint_no,
        reprinted_at=reprinted_at,
        language=language,
    )
