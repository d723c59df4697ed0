"""Which provider a scanned payment code (付款码) belongs to, by its form.

The providers' documents (2026): WeChat Pay's auth_code is 18 digits beginning 10 to 15 (付款码规则:
"18位纯数字，以10、11、12、13、14、15开头"); Alipay's is 16 to 24 digits beginning 25 to 30
("25~30开头的长度为16~24位的数字").
"""
from __future__ import annotations

from typing import Optional

WECHAT, ALIPAY = "wechat", "alipay"

#: Typed digits of at least this length are never an amount in the tender (¥100,000.00 is 8 digits
#: as fen and 6 as yuan): they are a scanned code, a payment code or not.
CODE_MIN_DIGITS = 8


class NotAPaymentCode(ValueError):
    """Looks like a scanned code, but no provider's payment code: charge nothing. ``key`` is the i18n key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def provider_of(text: str) -> Optional[str]:
    """WECHAT or ALIPAY for a payment code; None when ``text`` is not a scanned code at all (an amount, a
    key); NotAPaymentCode when it is a scanned code of the wrong form (a product barcode, too short, a
    known beginning with the wrong length)."""
    code = text.strip()
    if not code.isdigit() or not code.isascii() or len(code) < CODE_MIN_DIGITS:
        return None
    head = int(code[:2])
    if 10 <= head <= 15 and len(code) == 18:
        return WECHAT
    if 25 <= head <= 30 and 16 <= len(code) <= 24:
        return ALIPAY
    if 10 <= head <= 15 or 25 <= head <= 30:
        return _refuse("pay_code.wrong_length")
    return _refuse("pay_code.not_a_payment_code")


def _refuse(key: str) -> Optional[str]:
    raise NotAPaymentCode(key)
