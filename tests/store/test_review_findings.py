"""Defects found in review of the sync (issue 20), each shown with a real PostgreSQL server and real SQLite tills."""
from __future__ import annotations

import pytest

from tests.store.test_refund_claims import claims, server_refunded, sold_and_synced
from tests.store.test_shop_wide import server_url, sync, tills  # noqa: F401 - fixtures


def test_a_void_of_a_receipt_another_till_refunded_is_refused_online(tills):
    """Till 1 sold 2 colas; till 2 refunded 1 of them through the server (synced); till 1 then voids the whole
    sale: the void would give the refunded cola's money back a second time. Online it is refused in one
    sentence, and nothing more than was sold goes back."""
    from store.documents import DocumentError
    from tui.services import corrections

    sold, cola = sold_and_synced(tills, 2000, 0)
    with tills.on("2"):
        receipt = corrections.foreign_refund_choices(tills.server_url, "2", "1-000001")
        corrections.commit_foreign_refund(tills.server_url, receipt,
                                          corrections.RefundChoice(((receipt.lines[0].line_id, 1000),), None, 350),
                                          "2", "c2", None)
        sync(tills, "2")
    with tills.on("1"):
        with pytest.raises(DocumentError) as refused:
            corrections.commit_void(sold.id, "1", "c1", "m1", "wrong basket", tills.server_url)
        assert refused.value.code == "void_refunded"
        sync(tills, "1")
    assert server_refunded(tills, "1", sold.id) == 1000


def test_a_void_claims_the_receipt_so_another_till_cannot_refund_it_meanwhile(tills):
    """Till 1 voids its sale online (not synced yet): till 2's look-up of the receipt finds nothing left."""
    from tui.services import corrections

    sold, cola = sold_and_synced(tills, 2000, 0)
    with tills.on("1"):
        corrections.commit_void(sold.id, "1", "c1", "m1", "wrong basket", tills.server_url)
    with tills.on("2"):
        receipt = corrections.foreign_refund_choices(tills.server_url, "2", "1-000001")
        assert [line.remaining_qty for line in receipt.lines] == [0]
    with tills.on("1"):
        sync(tills, "1")
    assert [state for _, state, _ in claims(tills)] == ["done"]
