"""peewee models. Money in integer fen, quantities in integer thousandths.

The tables themselves are created and changed only by ``store.migrations``;
a test checks that the migrated schema matches these models.
"""
from __future__ import annotations

import datetime

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    CompositeKey,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from store.db import db

#: prev_hash of the first sale of a till.
GENESIS_HASH = "0" * 64


def now() -> datetime.datetime:
    """Local wall-clock time to the second: what a receipt shows."""
    return datetime.datetime.now().replace(microsecond=0)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = IntegerField(primary_key=True)
    name = CharField()
    applied_at = DateTimeField(default=now)

    class Meta:
        table_name = "schema_version"


class Product(BaseModel):
    barcode = CharField(max_length=32, unique=True)  # a PLU is a barcode too
    name = CharField(max_length=100)
    price_fen = BigIntegerField()
    unit = CharField(max_length=10, default="")
    active = BooleanField(default=True)
    pinyin = CharField(max_length=255, default="")
    initials = CharField(max_length=100, default="", index=True)


class Cashier(BaseModel):
    code = CharField(max_length=16, unique=True)
    name = CharField(max_length=50)
    pin_hash = CharField(max_length=255)
    active = BooleanField(default=True)
    manager = BooleanField(default=False)  # may allow reprints when [reprint] manager_pin is on


class TillCounter(BaseModel):
    """Last receipt number and journal hash per till; locked while committing."""

    till_id = CharField(max_length=8, primary_key=True)
    last_receipt_no = IntegerField(default=0)
    last_hash = CharField(max_length=64, default=GENESIS_HASH)
    audit_seq = IntegerField(default=0)  # head of the till's audit chain (store.audit)
    audit_hash = CharField(max_length=64, default=GENESIS_HASH)
    z_unsealed = IntegerField(default=0)  # Z numbers up to it were closed before Z reports were sealed (migration 11)

    class Meta:
        table_name = "till_counter"


class TillLock(BaseModel):
    """Which process runs a till: one row per running till id (``store.tills``)."""

    till_id = CharField(max_length=8, primary_key=True)
    host = CharField(max_length=255)
    pid = IntegerField()
    token = CharField(max_length=32)  # this run of the till: only it refreshes or releases the row
    started_at = DateTimeField()  # the holder's local clock, for people
    heartbeat_at = DateTimeField()  # the database's clock (UTC), for the stale check

    class Meta:
        table_name = "till_lock"


class Sale(BaseModel):
    till_id = CharField(max_length=8)
    receipt_no = IntegerField()
    sold_at = DateTimeField(index=True)
    cashier = CharField(max_length=16, default="")  # cashier code, a snapshot
    total_fen = BigIntegerField()
    change_fen = BigIntegerField(default=0)
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)
    # A document is a sale, a refund (lines linked to the sale they return) or a
    # void (reverses a whole sale); store.documents. Amounts are positive: the
    # kind says which way the money went.
    kind = CharField(max_length=8, default="sale")
    original = ForeignKeyField("self", null=True, backref="corrections", index=False)  # partial index: migration 7
    reason = CharField(max_length=255, default="")  # why a refund or void
    manager = CharField(max_length=16, default="")  # who allowed it, when a manager had to
    discount_fen = BigIntegerField(default=0)  # all discounts of the document (lines' discount_fen summed)
    hash_kind = CharField(max_length=8, default="")  # "" SHA-256, "hmac" HMAC-SHA256 with the journal key

    class Meta:
        indexes = ((("till_id", "receipt_no"), True),)


class Line(BaseModel):
    """One row of a sale: a snapshot of the product as it was sold."""

    sale = ForeignKeyField(Sale, backref="lines")
    position = IntegerField()
    product = ForeignKeyField(Product, null=True, on_delete="SET NULL")
    barcode = CharField(max_length=32, default="")
    name = CharField(max_length=100)
    unit = CharField(max_length=10, default="")
    unit_price_fen = BigIntegerField()
    qty_milli = IntegerField()
    amount_fen = BigIntegerField()  # what the customer pays for the line: price x qty - discount_fen
    discount_fen = BigIntegerField(default=0)  # its own discount and its share of the basket's
    # a refund or void line's sold line; partial index (migration 7)
    original_line = ForeignKeyField("self", null=True, backref="returns", index=False)


class Discount(BaseModel):
    """One discount decision of a document: on a line (``line_position``) or the basket (0).

    ``kind``: percent (``value`` in hundredths of a percent), amount (fen),
    price (an override: ``value`` is the new unit price) or round (抹零:
    ``value`` is the step in fen). ``amount_fen`` is what it took off.
    """

    sale = ForeignKeyField(Sale, backref="discounts")
    line_position = IntegerField(default=0)
    kind = CharField(max_length=8)
    value = BigIntegerField(default=0)
    amount_fen = BigIntegerField()
    reason = CharField(max_length=255, default="")
    cashier = CharField(max_length=16, default="")
    manager = CharField(max_length=16, default="")


class OpenBasket(BaseModel):
    """A basket being rung up (``open``) or put aside (``held``), stored as it changes (store.baskets).

    Not a sale: no receipt number, not in the journal. ``content`` is the
    basket and its payments as JSON; a paid basket ends ``sold`` (with its
    sale), others ``cancelled`` or ``abandoned`` (payments handed back).
    """

    till_id = CharField(max_length=8)
    state = CharField(max_length=10)
    cashier = CharField(max_length=16, default="")
    note = CharField(max_length=255, default="")
    opened_at = DateTimeField()
    updated_at = DateTimeField()
    total_fen = BigIntegerField(default=0)
    paid_fen = BigIntegerField(default=0)
    items = IntegerField(default=0)
    content = TextField(default="")
    sale = ForeignKeyField(Sale, null=True)
    closed_at = DateTimeField(null=True)

    class Meta:
        table_name = "open_basket"
        indexes = ((("state", "till_id"), False),)


class LineName(BaseModel):
    """Every distinct product name of a line, kept by a trigger on ``line`` (migration 4).

    A history search by name matches the typed text against these (a few
    thousand, however many sales) and then walks the index line (name, sale_id).
    """

    name = CharField(max_length=100, primary_key=True)

    class Meta:
        table_name = "line_name"


class Payment(BaseModel):
    sale = ForeignKeyField(Sale, backref="payments")
    position = IntegerField()
    method = CharField(max_length=16)
    amount_fen = BigIntegerField()
    reference = CharField(max_length=64, default="")  # a mobile payment's: the provider's transaction number
    status = CharField(max_length=8, default="ok")  # ok | failed
    reason = CharField(max_length=255, default="")
    out_trade_no = CharField(max_length=32, default="")  # the payment attempt it came from (mobile), else ""


class ReceiptOutcome(BaseModel):
    """What the customer got for a sale; its states live in ``store.outcomes``, the changes there and in
    ``store.print_attempts``."""

    sale = ForeignKeyField(Sale, unique=True, backref="outcomes")
    # Indexed only where unresolved: the partial index receipt_outcome_unresolved
    # (migration 4), used through store.outcomes.unresolved_term().
    state = CharField(max_length=12)
    reason_code = CharField(max_length=32, default="")
    reason = CharField(max_length=255, default="")
    updated_at = DateTimeField(default=now)

    class Meta:
        table_name = "receipt_outcome"


class PrintAttempt(BaseModel):
    sale = ForeignKeyField(Sale, backref="print_attempts")
    printer = CharField(max_length=64)
    cashier = CharField(max_length=16, default="")
    started_at = DateTimeField(default=now)
    finished_at = DateTimeField(null=True)
    result = CharField(max_length=12, default="")  # "" while printing, then printed | failed
    reason_code = CharField(max_length=32, default="")
    reason = CharField(max_length=255, default="")
    reprint_no = IntegerField(default=0)
    # Outcome state before this attempt: a failed reprint of an already
    # resolved receipt goes back to it instead of blocking the till.
    prior_state = CharField(max_length=12, default="")
    # Why a printed attempt counts as printed: "printer" (it confirmed) or
    # "cashier" (the cashier holds the paper); "" for a failed one (migration 6).
    evidence = CharField(max_length=12, default="")

    class Meta:
        table_name = "print_attempt"


class Event(BaseModel):
    """Event log: exceptions and notable actions, for later analysis."""

    at = DateTimeField(default=now, index=True)
    till_id = CharField(max_length=8)
    cashier = CharField(max_length=16, default="")
    kind = CharField(max_length=32, index=True)
    sale = ForeignKeyField(Sale, null=True, backref="events")
    printer = CharField(max_length=64, default="")
    detail = TextField(default="")


class Audit(BaseModel):
    """One record of a till's audit chain (store.audit): a row of an outcome, print attempt or event as written.

    ``kind``: commit (ref: the sale; the journal hash, payment reasons and
    the first outcome), outcome (ref: the sale), attempt, event (ref: their
    ids). Append-only; ``hash`` chains like the
    journal (``hash_kind`` as there).
    """

    till_id = CharField(max_length=8)
    seq = IntegerField()
    kind = CharField(max_length=12)
    ref = BigIntegerField(default=0)
    content = TextField()
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)
    hash_kind = CharField(max_length=8, default="")

    class Meta:
        table_name = "audit"
        indexes = ((("till_id", "seq"), True),)


class JournalCheckpoint(BaseModel):
    """A verified prefix of every chain (store.journal): where the next ``journal verify`` may start."""

    verified_at = DateTimeField()
    content = TextField()
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)
    hash_kind = CharField(max_length=8, default="")

    class Meta:
        table_name = "journal_checkpoint"


class ProductKey(BaseModel):
    """A search key of a product: a name gram (kind "n"), other initials of a polyphone name (kind "i"),
    pinyin or initials from a later syllable (kind "s"), or the version of the product's keys (kind "v").

    The primary key (kind, key, product) is the search index: a prefix of
    ``key`` is one range scan (store.catalogue). On SQLite the migration
    creates the table WITHOUT ROWID.
    """

    kind = CharField(max_length=1)
    key = CharField(max_length=100)
    product = ForeignKeyField(Product, on_delete="CASCADE", column_name="product_id")

    class Meta:
        table_name = "product_key"
        primary_key = CompositeKey("kind", "key", "product")


class PriceChange(BaseModel):
    """One change of a product's price: old and new price, who, when, and from where."""

    product = ForeignKeyField(Product, on_delete="CASCADE", backref="price_changes")
    old_price_fen = BigIntegerField()
    new_price_fen = BigIntegerField()
    changed_at = DateTimeField(default=now, index=True)
    changed_by = CharField(max_length=50, default="")
    source = CharField(max_length=16, default="")  # import | cli | till

    class Meta:
        table_name = "price_change"


class Shift(BaseModel):
    """The period a till's cash drawer is open: opened with a counted float, closed by a Z report (store.shifts).

    ``after_receipt_no``: the till's last receipt number when the shift
    opened; the shift's documents are the ones after the previous Z's.
    """

    till_id = CharField(max_length=8)
    number = IntegerField()  # per till
    opened_at = DateTimeField()
    opened_by = CharField(max_length=16, default="")
    float_fen = BigIntegerField(default=0)
    float_counts = TextField(default="")  # JSON {denomination fen: count}, "" when one amount was typed
    after_receipt_no = IntegerField(default=0)
    closed_at = DateTimeField(null=True)
    closed_by = CharField(max_length=16, default="")
    z_no = IntegerField(null=True)

    class Meta:
        indexes = ((("till_id", "number"), True),)


class CashMove(BaseModel):
    """Cash put into (paid_in) or taken out of (paid_out) the drawer during a shift, with why and who."""

    shift = ForeignKeyField(Shift, backref="cash_moves")
    kind = CharField(max_length=8)
    amount_fen = BigIntegerField()
    reason = CharField(max_length=255, default="")
    cashier = CharField(max_length=16, default="")
    manager = CharField(max_length=16, default="")
    at = DateTimeField()

    class Meta:
        table_name = "cash_move"


class ShiftHandover(BaseModel):
    """One cashier hands the till to another inside a shift (Ctrl+L)."""

    shift = ForeignKeyField(Shift, backref="handovers")
    from_cashier = CharField(max_length=16, default="")
    to_cashier = CharField(max_length=16, default="")
    at = DateTimeField()

    class Meta:
        table_name = "shift_handover"


class ZReport(BaseModel):
    """A closed shift's figures: numbered gaplessly per till, hash-chained, never changed (store.reports)."""

    till_id = CharField(max_length=8)
    z_no = IntegerField()
    shift = ForeignKeyField(Shift, null=True, index=False)
    closed_at = DateTimeField()
    closed_by = CharField(max_length=16, default="")
    last_receipt_no = IntegerField(default=0)  # the last document it covers
    figures = TextField()  # canonical JSON
    journal_head = CharField(max_length=64)  # the till's journal hash at close
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)

    class Meta:
        table_name = "z_report"
        indexes = ((("till_id", "z_no"), True),)


class PaymentAttempt(BaseModel):
    """One request to a payment provider for an open basket (store.payment_attempts): stored before it leaves.

    ``basket`` and ``sale`` are plain ids, not foreign keys: the archive moves old sales to another file
    and attempts stay (they are never archived).
    """

    till_id = CharField(max_length=8)
    basket = IntegerField(null=True)  # the open_basket row
    out_trade_no = CharField(max_length=32, unique=True)
    provider = CharField(max_length=16)
    amount_fen = BigIntegerField()
    code_last4 = CharField(max_length=4, default="")  # never the whole payment code
    created_at = DateTimeField()
    state = CharField(max_length=12)
    transaction_id = CharField(max_length=64, default="")  # the provider's transaction number, once paid
    reason_code = CharField(max_length=64, default="")
    reason = CharField(max_length=255, default="")
    updated_at = DateTimeField()
    sale = IntegerField(null=True)  # the sale it paid, set in the sale's own transaction

    class Meta:
        table_name = "payment_attempt"


class ProviderRefund(BaseModel):
    """One refund asked of a payment provider for a refund or void document (store.provider_refunds): stored
    with the document, in its transaction, before the request leaves.

    ``document`` is a plain id (as PaymentAttempt's ``sale``): the archive moves old documents away and
    provider refunds stay. ``out_refund_no`` comes from the document (till, receipt number, payment position):
    asking again after a crash uses the same one, so the provider refunds at most once.
    """

    till_id = CharField(max_length=8)
    document = IntegerField()  # the refund or void (a sale row of kind refund / void)
    position = IntegerField()  # the document's payment it gives back
    out_refund_no = CharField(max_length=64, unique=True)
    out_trade_no = CharField(max_length=32)  # the paid order it refunds
    provider = CharField(max_length=16)
    total_fen = BigIntegerField()  # the order's amount (WeChat asks for it with each refund)
    amount_fen = BigIntegerField()  # what goes back
    created_at = DateTimeField()
    state = CharField(max_length=12)
    refund_id = CharField(max_length=64, default="")  # the provider's refund number
    reason_code = CharField(max_length=64, default="")
    reason = CharField(max_length=255, default="")
    updated_at = DateTimeField()

    class Meta:
        table_name = "provider_refund"


class StockMove(BaseModel):
    """One change of a product's quantity on hand (store.stock): append-only, sealed in the audit chain.

    ``qty_milli`` is signed, in thousandths of the product's unit, as a line's: 1000 is one piece, or one kg
    (so a kg product moves in grams). ``cost_fen``: the unit cost (per piece or per unit weighed), the
    delivery's for ``received``, else the moving average when the move was written. ``document`` is the sale,
    refund or void (a plain id: the archive moves documents away, moves stay), ``count`` the stocktake.
    """

    product = ForeignKeyField(Product, index=False, column_name="product_id")  # (product, id): migration 13
    kind = CharField(max_length=8)  # sale | refund | void | received | counted | adjusted
    qty_milli = BigIntegerField()
    cost_fen = BigIntegerField(default=0)
    reason = CharField(max_length=12, default="")  # adjusted: damaged | lost | own_use | given | other
    note = CharField(max_length=255, default="")
    document = IntegerField(null=True)
    count = IntegerField(null=True)
    ref = CharField(max_length=64, default="")  # a delivery's number or supplier
    till_id = CharField(max_length=8)
    at = DateTimeField(index=True)
    cashier = CharField(max_length=16, default="")
    manager = CharField(max_length=16, default="")

    class Meta:
        table_name = "stock_move"


class StockBalance(BaseModel):
    """A product's on hand and moving average cost, kept in the same transaction as each of its moves.

    ``min_milli``: the low-stock threshold (None: none). ``last_move``: the newest move it includes.
    """

    product = ForeignKeyField(Product, primary_key=True, column_name="product_id")
    on_hand_milli = BigIntegerField(default=0)
    avg_cost_fen = BigIntegerField(default=0)
    min_milli = BigIntegerField(null=True)
    last_move = IntegerField(default=0)

    class Meta:
        table_name = "stock_balance"


class StockCount(BaseModel):
    """A stocktake (盘点): numbered gaplessly per till; ``state`` open, then applied by a manager."""

    till_id = CharField(max_length=8)
    number = IntegerField()
    started_at = DateTimeField()
    cashier = CharField(max_length=16, default="")
    whole = IntegerField(default=0)  # 1: uncounted products with stock count as 0 (an int: sealed as read back)
    state = CharField(max_length=8, default="open")  # open | applied
    applied_at = DateTimeField(null=True)
    manager = CharField(max_length=16, default="")

    class Meta:
        table_name = "stock_count"
        indexes = ((("till_id", "number"), True),)


class StockCountLine(BaseModel):
    """One product counted: what was on the shelf and what the till expected at that moment.

    A product counted again in the same count: the newest line stands (append-only, a typo corrected).
    """

    count = ForeignKeyField(StockCount, backref="lines", column_name="count_id")
    product = ForeignKeyField(Product, column_name="product_id", index=False)
    counted_milli = BigIntegerField()
    expected_milli = BigIntegerField()  # the balance's on hand when it was counted
    counted_at = DateTimeField()
    cashier = CharField(max_length=16, default="")

    class Meta:
        table_name = "stock_count_line"


class SyncMark(BaseModel):
    """What the shop's server has acknowledged of a till's audit chain (store.sync_batch), and the instance:
    a random id of this local database, made once, that the server ties the till id to (store.server)."""

    till_id = CharField(max_length=8, primary_key=True)
    sent_seq = IntegerField(default=0)
    sent_hash = CharField(max_length=64, default=GENESIS_HASH)
    sent_at = DateTimeField(null=True)
    instance = CharField(max_length=32)
    error = TextField(default="")  # the sync worker's last failing sentence, "" once a round works (migration 17)
    error_at = DateTimeField(null=True)  # when that sentence was first said (or cleared)

    class Meta:
        table_name = "sync_mark"
class ForeignCopy(BaseModel):
    """A row of another till's document copied here from the server (store.shop_wide), kept apart.

    A refund of another till's receipt points at a local copy of that receipt (``kind`` sale, and each of its
    lines, kind line): ``local_id`` is the copy's id here, ``server_id`` the original's id on the server. The
    copy is not this till's: its journal walk skips it (store.journal._tills), and sync sends the mapping.
    """

    kind = CharField(max_length=8)  # sale | line | payment
    local_id = IntegerField()
    server_id = BigIntegerField()
    till_id = CharField(max_length=8)  # the till the original is of
    receipt_no = IntegerField(default=0)
    copied_at = DateTimeField()

    class Meta:
        table_name = "foreign_copy"
        primary_key = CompositeKey("kind", "local_id")
        indexes = ((("kind", "server_id"), True), (("till_id",), False))


class HeldPush(BaseModel):
    """A held basket of this till as pushed to the server (store.shop_wide): ``state`` pushed (listed there),
    withdrawn (back here, or gone) or taken (another till, ``taken_by``, took it there). ``pushed_at``: the
    basket's updated_at as pushed (changed since: pushed again)."""

    basket = IntegerField(primary_key=True)
    state = CharField(max_length=10)
    pushed_at = CharField(max_length=32, default="")
    taken_by = CharField(max_length=8, default="")
    at = DateTimeField()

    class Meta:
        table_name = "held_push"
        indexes = ((("state",), False),)


class SharedCopy(BaseModel):
    """What the local copy of one shared table (store.shared_data) was made from: the server and its version."""

    name = CharField(max_length=32, primary_key=True)  # the shared table
    instance = CharField(max_length=64, default="")  # the server's shared_version.instance
    version = BigIntegerField(default=0)
    pulled_at = DateTimeField(null=True)

    class Meta:
        table_name = "shared_copy"


class SharedSetting(BaseModel):
    """A [selling] or [limits] value the shop sets for every till; it overrides the till's file (JSON value)."""

    section = CharField(max_length=32)
    key = CharField(max_length=64)
    value = TextField()
    changed_at = DateTimeField(null=True)
    changed_by = CharField(max_length=50, default="")

    class Meta:
        table_name = "shared_setting"
        primary_key = CompositeKey("section", "key")


class ShopStock(BaseModel):
    """A product's stock as the shop's server last said it (store.shop_stock): every till's synced moves.

    Kept apart from ``stock_balance`` (this till's own moves only, which ``journal verify --full`` checks).
    """

    product_id = IntegerField(primary_key=True)  # no foreign key: a product the till no longer has may be here
    on_hand_milli = BigIntegerField(default=0)
    avg_cost_fen = BigIntegerField(default=0)
    min_milli = BigIntegerField(null=True)
    version = BigIntegerField(default=0)  # the server's version of the row

    class Meta:
        table_name = "shop_stock"


class ShopStockMark(BaseModel):
    """One row (id 1): what ``shop_stock`` was read from: the server, its version, this till's head seq there at
    that moment, the first local move the figure lacks, when it was read and when the server last confirmed it."""

    id = IntegerField(primary_key=True)
    instance = CharField(max_length=64, default="")
    version = BigIntegerField(default=0)
    till_id = CharField(max_length=8, default="")
    head_seq = BigIntegerField(default=0)
    first_move = BigIntegerField(default=0)
    pulled_at = DateTimeField(null=True)
    checked_at = DateTimeField(null=True)

    class Meta:
        table_name = "shop_stock_mark"


ALL_MODELS = (
    SchemaVersion,
    Product,
    Cashier,
    TillCounter,
    Sale,
    Line,
    LineName,
    Payment,
    ReceiptOutcome,
    PrintAttempt,
    Event,
    ProductKey,
    PriceChange,
    TillLock,
    Discount,
    OpenBasket,
    Shift,
    CashMove,
    ShiftHandover,
    ZReport,
    Audit,
    JournalCheckpoint,
    PaymentAttempt,
    ProviderRefund,
    StockMove,
    StockBalance,
    StockCount,
    StockCountLine,
    SyncMark,
    SharedCopy,
    SharedSetting,
    ForeignCopy,
    HeldPush,
    ShopStock,
    ShopStockMark,
)
