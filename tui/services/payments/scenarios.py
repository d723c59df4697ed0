"""The simulator's scenarios, chosen by the payment code scanned (its last three digits).

One table for both protocols, so a newcomer in the demo (and a test) picks what happens by the code:
README lists the demo codes. A code of any other ending pays at once.
"""
from __future__ import annotations

from dataclasses import dataclass

INSTANT = "instant"              # paid at once
CONFIRMING = "confirming"        # the customer confirms on the phone for N seconds, then it is paid
BALANCE_LOW = "balance_low"      # refused: 余额不足 (WeChat NOTENOUGH, Alipay ACQ.BUYER_BALANCE_NOT_ENOUGH)
CODE_EXPIRED = "code_expired"    # refused: 付款码已过期 (WeChat AUTH_CODE_INVALID/AUTHCODEEXPIRE,
                                 # Alipay ACQ.PAYMENT_AUTH_CODE_INVALID)
ERROR_THEN_PAID = "error_paid"   # pay answers a system error; the order is paid (the query says so)
ERROR_NOT_PAID = "error_unpaid"  # pay answers a system error; the order is not paid (NOTPAY / WAIT), cancel
NO_ANSWER = "no_answer"          # pay gets no answer (the connection hangs past the client's timeout);
                                 # the order was never paid: queries say NOTPAY, cancel works
DECLINE_CONFIRM = "declines"     # the customer confirms for N seconds, then declines (never paid)


@dataclass(frozen=True)
class Scenario:
    kind: str
    seconds: int = 0             # CONFIRMING / DECLINE_CONFIRM: how long the customer takes


def scenario_of(auth_code: str) -> Scenario:
    """What the simulator does with this code: by its last three digits.

    ``1NN``: the customer confirms for NN seconds (``112``: 12 s), then it is paid.
    ``2NN``: confirms for NN seconds, then declines.
    ``301`` balance too low, ``302`` code expired, ``401`` system error then paid,
    ``402`` system error then not paid, ``403`` no answer. Anything else: paid at once.
    """
    end = auth_code[-3:]
    fixed = {"301": BALANCE_LOW, "302": CODE_EXPIRED, "401": ERROR_THEN_PAID, "402": ERROR_NOT_PAID,
             "403": NO_ANSWER}
    if end in fixed:
        return Scenario(fixed[end])
    if end[:1] == "1" and end[1:].isdigit():
        return Scenario(CONFIRMING, int(end[1:]))
    if end[:1] == "2" and end[1:].isdigit():
        return Scenario(DECLINE_CONFIRM, int(end[1:]))
    return Scenario(INSTANT)


def refund_seconds(auth_code: str) -> int:
    """How long the simulator keeps a refund of an order paid with this code processing, then done.

    ``5NN``: NN seconds (``505``: 5 s; the order itself pays at once). Any other code: refunded at once.
    """
    end = auth_code[-3:]
    return int(end[1:]) if end[:1] == "5" and end[1:].isdigit() else 0
