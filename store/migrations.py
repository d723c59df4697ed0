"""Numbered schema migrations, recorded in the ``schema_version`` table.

``MIGRATIONS`` is an ordered list of ``(number, name, function)``. Each
function takes ``(database, migrator)`` (a ``playhouse.migrate``
``SchemaMigrator``) and must never change once released: each declares
frozen copies of its tables (and of any code it runs) instead of using
``store.models`` or the catalogue code, so later changes go into new
migrations. Nothing here imports the rest of ``store``.

All pending migrations and their ``schema_version`` rows are applied in one
write transaction; PostgreSQL additionally takes an advisory lock so two
tills starting at once do not race.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import logging
from typing import TYPE_CHECKING, Callable, List, Tuple

import peewee
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

if TYPE_CHECKING:  # a till on an up-to-date schema never loads the migrator: part of its start-up
    from playhouse.migrate import SchemaMigrator

log = logging.getLogger("chaoying.store.migrations")

_PG_LOCK_KEY = 0x63686179  # "chay": any constant shared by all tills


class SchemaVersion(Model):
    """The applied migrations (``store.models.SchemaVersion`` reads the same table)."""

    version = IntegerField(primary_key=True)
    name = CharField()
    applied_at = DateTimeField(default=datetime.datetime.now)

    class Meta:
        table_name = "schema_version"


def _m001_create_tables(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """The first schema: products, cashiers, sales and everything a receipt needs."""
    now = datetime.datetime.now

    class Base(Model):
        class Meta:
            legacy_table_names = False

    class Product(Base):
        barcode = CharField(max_length=32, unique=True)
        name = CharField(max_length=100)
        price_fen = BigIntegerField()
        unit = CharField(max_length=10, default="")
        active = BooleanField(default=True)
        pinyin = CharField(max_length=255, default="")
        initials = CharField(max_length=100, default="", index=True)

    class Cashier(Base):
        code = CharField(max_length=16, unique=True)
        name = CharField(max_length=50)
        pin_hash = CharField(max_length=255)
        active = BooleanField(default=True)

    class TillCounter(Base):
        till_id = CharField(max_length=8, primary_key=True)
        last_receipt_no = IntegerField(default=0)
        last_hash = CharField(max_length=64, default="0" * 64)

        class Meta:
            table_name = "till_counter"

    class Sale(Base):
        till_id = CharField(max_length=8)
        receipt_no = IntegerField()
        sold_at = DateTimeField(index=True)
        cashier = CharField(max_length=16, default="")
        total_fen = BigIntegerField()
        change_fen = BigIntegerField(default=0)
        prev_hash = CharField(max_length=64)
        hash = CharField(max_length=64)

        class Meta:
            indexes = ((("till_id", "receipt_no"), True),)

    class Line(Base):
        sale = ForeignKeyField(Sale)
        position = IntegerField()
        product = ForeignKeyField(Product, null=True, on_delete="SET NULL")
        barcode = CharField(max_length=32, default="")
        name = CharField(max_length=100)
        unit = CharField(max_length=10, default="")
        unit_price_fen = BigIntegerField()
        qty_milli = IntegerField()
        amount_fen = BigIntegerField()

    class Payment(Base):
        sale = ForeignKeyField(Sale)
        position = IntegerField()
        method = CharField(max_length=16)
        amount_fen = BigIntegerField()
        reference = CharField(max_length=64, default="")
        status = CharField(max_length=8, default="ok")
        reason = CharField(max_length=255, default="")

    class ReceiptOutcome(Base):
        sale = ForeignKeyField(Sale, unique=True)
        state = CharField(max_length=12, index=True)
        reason_code = CharField(max_length=32, default="")
        reason = CharField(max_length=255, default="")
        updated_at = DateTimeField(default=now)

        class Meta:
            table_name = "receipt_outcome"

    class PrintAttempt(Base):
        sale = ForeignKeyField(Sale)
        printer = CharField(max_length=64)
        cashier = CharField(max_length=16, default="")
        started_at = DateTimeField(default=now)
        finished_at = DateTimeField(null=True)
        result = CharField(max_length=12, default="")
        reason_code = CharField(max_length=32, default="")
        reason = CharField(max_length=255, default="")
        reprint_no = IntegerField(default=0)
        prior_state = CharField(max_length=12, default="")

        class Meta:
            table_name = "print_attempt"

    class Event(Base):
        at = DateTimeField(default=now, index=True)
        till_id = CharField(max_length=8)
        cashier = CharField(max_length=16, default="")
        kind = CharField(max_length=32, index=True)
        sale = ForeignKeyField(Sale, null=True)
        printer = CharField(max_length=64, default="")
        detail = TextField(default="")

    tables = [Product, Cashier, TillCounter, Sale, Line, Payment, ReceiptOutcome, PrintAttempt, Event]
    with database.bind_ctx(tables):
        database.create_tables(tables)


def _m003_cashier_manager(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """cashier.manager: a manager's PIN can allow what a cashier alone may not (reprints)."""
    from playhouse.migrate import migrate as run_migration

    run_migration(migrator.add_column("cashier", "manager", BooleanField(default=False)))


def _m004_bounded_queries(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """Indexes so the till's queries are bounded by open work, and the history search by its answer.

    - receipt_outcome_unresolved: a partial index holding only the receipts
      still pending, printing or failed (a query uses it when its WHERE has
      this exact ``state IN (...)`` term: SQLite's partial-index rule); it
      replaces the index on every state, which with statistics made the
      planner read the whole table;
    - sale (till_id, sold_at) and (till_id, total_fen, receipt_no): history
      search by day and by amount;
    - line (name, sale_id), (barcode, sale_id), (product_id, sale_id): the
      newest sales with a product, newest first (the last replaces the
      foreign-key index on product_id);
    - line_name: every distinct line name, kept by a trigger on line; a
      name search reads it instead of every line.
    """
    sqlite = isinstance(database, peewee.SqliteDatabase)
    statements = [
        "CREATE INDEX receipt_outcome_unresolved ON receipt_outcome (sale_id) "
        "WHERE state IN ('pending', 'printing', 'failed')",
        "DROP INDEX receipt_outcome_state",
        "CREATE INDEX sale_till_id_sold_at ON sale (till_id, sold_at)",
        "CREATE INDEX sale_till_id_total_fen_receipt_no ON sale (till_id, total_fen, receipt_no)",
        "CREATE INDEX line_name_sale_id ON line (name, sale_id)",
        "CREATE INDEX line_barcode_sale_id ON line (barcode, sale_id)",
        "CREATE INDEX line_product_id_sale_id ON line (product_id, sale_id)",
        "DROP INDEX line_product_id",
        "CREATE TABLE line_name (name VARCHAR(100) NOT NULL PRIMARY KEY)" + (" WITHOUT ROWID" if sqlite else ""),
        "INSERT INTO line_name (name) SELECT DISTINCT name FROM line",
    ]
    if sqlite:
        statements.append(
            "CREATE TRIGGER line_name_add AFTER INSERT ON line "
            "BEGIN INSERT OR IGNORE INTO line_name (name) VALUES (new.name); END")
    else:
        statements += [
            "CREATE FUNCTION line_name_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "INSERT INTO line_name (name) VALUES (NEW.name) ON CONFLICT DO NOTHING; RETURN NULL; END $$",
            "CREATE TRIGGER line_name_add AFTER INSERT ON line FOR EACH ROW EXECUTE FUNCTION line_name_add()",
        ]
    for statement in statements:
        database.execute_sql(statement)


def _m005_till_lock(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """till_lock: one row per running till id, so a second till with the same id is refused."""

    class TillLock(Model):
        till_id = CharField(max_length=8, primary_key=True)
        host = CharField(max_length=255)
        pid = IntegerField()
        token = CharField(max_length=32)
        started_at = DateTimeField()
        heartbeat_at = DateTimeField()

        class Meta:
            table_name = "till_lock"

    with database.bind_ctx([TillLock]):
        database.create_tables([TillLock])


def _m006_print_evidence(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """print_attempt.evidence: printer (it confirmed) or cashier (the cashier holds the paper).

    Every attempt printed before this migration was confirmed by the printer.
    A default in the database too: an INSERT that does not name the column
    (older code, raw SQL) still works.
    """
    database.execute_sql("ALTER TABLE print_attempt ADD COLUMN evidence VARCHAR(12) NOT NULL DEFAULT ''")
    database.execute_sql("UPDATE print_attempt SET evidence = 'printer' WHERE result = 'printed'")


def _m007_documents_and_baskets(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """Documents (refund, void) and discounts on sale and line; the discount table; open baskets.

    Every sale before this migration is a plain sale without discounts: the
    column defaults say so, and the journal hashes (which name these fields
    only when they differ from the defaults) stay as they were.
    """
    for statement in (
        "ALTER TABLE sale ADD COLUMN kind VARCHAR(8) NOT NULL DEFAULT 'sale'",
        "ALTER TABLE sale ADD COLUMN original_id INTEGER REFERENCES sale (id)",
        "ALTER TABLE sale ADD COLUMN reason VARCHAR(255) NOT NULL DEFAULT ''",
        "ALTER TABLE sale ADD COLUMN manager VARCHAR(16) NOT NULL DEFAULT ''",
        "ALTER TABLE sale ADD COLUMN discount_fen BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE line ADD COLUMN discount_fen BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE line ADD COLUMN original_line_id INTEGER REFERENCES line (id)",
        # partial: only corrections are in them, so the planner (and ANALYZE) sees them as selective
        "CREATE INDEX sale_original_id ON sale (original_id) WHERE original_id IS NOT NULL",
        "CREATE INDEX line_original_line_id ON line (original_line_id) WHERE original_line_id IS NOT NULL",
    ):
        database.execute_sql(statement)

    class Base(Model):
        class Meta:
            legacy_table_names = False

    class Sale(Base):
        pass

    class Discount(Base):
        sale = ForeignKeyField(Sale, backref="discounts")
        line_position = IntegerField(default=0)
        kind = CharField(max_length=8)
        value = BigIntegerField(default=0)
        amount_fen = BigIntegerField()
        reason = CharField(max_length=255, default="")
        cashier = CharField(max_length=16, default="")
        manager = CharField(max_length=16, default="")

    class OpenBasket(Base):
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

    with database.bind_ctx([Sale, Discount, OpenBasket]):
        database.create_tables([Discount, OpenBasket])


def _m008_shifts_and_z_reports(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """Shifts (float, paid in and out, hand-overs) and Z reports, numbered gaplessly per till and hash-chained.

    At most one open shift per till (a partial unique index); a Z report row
    is never changed or deleted (triggers refuse it), and its number is
    unique per till. Frozen: it names every column itself.
    """
    sqlite = isinstance(database, peewee.SqliteDatabase)
    key = "INTEGER PRIMARY KEY AUTOINCREMENT" if sqlite else "SERIAL PRIMARY KEY"
    stamp = "DATETIME" if sqlite else "TIMESTAMP"
    statements = [
        f"CREATE TABLE shift (id {key}, till_id VARCHAR(8) NOT NULL, number INTEGER NOT NULL, "
        f"opened_at {stamp} NOT NULL, opened_by VARCHAR(16) NOT NULL DEFAULT '', "
        "float_fen BIGINT NOT NULL DEFAULT 0, float_counts TEXT NOT NULL DEFAULT '', "
        f"after_receipt_no INTEGER NOT NULL DEFAULT 0, closed_at {stamp}, closed_by VARCHAR(16) NOT NULL DEFAULT '', "
        "z_no INTEGER)",
        "CREATE UNIQUE INDEX shift_till_id_number ON shift (till_id, number)",
        "CREATE UNIQUE INDEX shift_open ON shift (till_id) WHERE closed_at IS NULL",
        f"CREATE TABLE cash_move (id {key}, shift_id INTEGER NOT NULL REFERENCES shift (id), "
        "kind VARCHAR(8) NOT NULL, amount_fen BIGINT NOT NULL, reason VARCHAR(255) NOT NULL DEFAULT '', "
        f"cashier VARCHAR(16) NOT NULL DEFAULT '', manager VARCHAR(16) NOT NULL DEFAULT '', at {stamp} NOT NULL)",
        "CREATE INDEX cash_move_shift_id ON cash_move (shift_id)",
        f"CREATE TABLE shift_handover (id {key}, shift_id INTEGER NOT NULL REFERENCES shift (id), "
        "from_cashier VARCHAR(16) NOT NULL DEFAULT '', to_cashier VARCHAR(16) NOT NULL DEFAULT '', "
        f"at {stamp} NOT NULL)",
        "CREATE INDEX shift_handover_shift_id ON shift_handover (shift_id)",
        f"CREATE TABLE z_report (id {key}, till_id VARCHAR(8) NOT NULL, z_no INTEGER NOT NULL, "
        f"shift_id INTEGER REFERENCES shift (id), closed_at {stamp} NOT NULL, "
        "closed_by VARCHAR(16) NOT NULL DEFAULT '', last_receipt_no INTEGER NOT NULL DEFAULT 0, "
        "figures TEXT NOT NULL, journal_head VARCHAR(64) NOT NULL, prev_hash VARCHAR(64) NOT NULL, "
        "hash VARCHAR(64) NOT NULL)",
        "CREATE UNIQUE INDEX z_report_till_id_z_no ON z_report (till_id, z_no)",
        # events of a shift are read by time (no_sale drawer opens, cancelled baskets) of one till
        "CREATE INDEX event_till_id_at ON event (till_id, at)",
    ]
    if sqlite:
        statements += [
            f"CREATE TRIGGER z_report_no_{verb} BEFORE {verb.upper()} ON z_report "
            "BEGIN SELECT RAISE(ABORT, 'a Z report is never changed or deleted'); END"
            for verb in ("update", "delete")
        ]
    else:
        statements += [
            "CREATE FUNCTION z_report_frozen() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'a Z report is never changed or deleted'; END $$",
            "CREATE TRIGGER z_report_frozen BEFORE UPDATE OR DELETE ON z_report "
            "FOR EACH ROW EXECUTE FUNCTION z_report_frozen()",
        ]
    for statement in statements:
        database.execute_sql(statement)


def _m009_audit_chain(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """Tamper evidence: the audit chain (outcomes, print attempts, events), its heads, checkpoints, hash kinds.

    Rows written before this migration have no audit record: the first
    checkpoint names the highest sale, print attempt and event id then (its
    ``baseline``), and verify checks only rows after it.
    """
    for statement in (
        "ALTER TABLE sale ADD COLUMN hash_kind VARCHAR(8) NOT NULL DEFAULT ''",
        "ALTER TABLE till_counter ADD COLUMN audit_seq INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE till_counter ADD COLUMN audit_hash VARCHAR(64) NOT NULL DEFAULT '" + "0" * 64 + "'",
    ):
        database.execute_sql(statement)

    class Base(Model):
        class Meta:
            legacy_table_names = False

    class Audit(Base):
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

    class JournalCheckpoint(Base):
        verified_at = DateTimeField()
        content = TextField()
        prev_hash = CharField(max_length=64)
        hash = CharField(max_length=64)
        hash_kind = CharField(max_length=8, default="")

        class Meta:
            table_name = "journal_checkpoint"

    with database.bind_ctx([Audit, JournalCheckpoint]):
        database.create_tables([Audit, JournalCheckpoint])
    highest = {}
    for name in ("sale", "print_attempt", "event"):
        highest[name] = int(database.execute_sql(f'SELECT MAX("id") FROM "{name}"').fetchone()[0] or 0)
    baseline = {"attempt": highest["print_attempt"], "event": highest["event"], "sale": highest["sale"]}
    content = json.dumps(dict(baseline, baseline=baseline, tills={}), sort_keys=True, separators=(",", ":"))
    genesis = "0" * 64
    digest = hashlib.sha256((genesis + content).encode("utf-8")).hexdigest()
    with database.bind_ctx([JournalCheckpoint]):
        JournalCheckpoint.create(verified_at=datetime.datetime.now().replace(microsecond=0), content=content,
                                 prev_hash=genesis, hash=digest, hash_kind="")

def _m010_payment_attempts(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """Payment attempts (one request to WeChat Pay or Alipay, stored before it leaves) and the payment's link.

    - payment_attempt_open: a partial index holding only the attempts not yet settled (and the paid ones
      no sale holds yet), per till: what the till asks at start and per sale, bounded by open work;
    - payment_attempt_basket: the attempts of one basket;
    - payment.out_trade_no: the attempt a mobile payment came from ("" for every older payment).
    """

    class Base(Model):
        class Meta:
            legacy_table_names = False

    class PaymentAttempt(Base):
        till_id = CharField(max_length=8)
        basket = IntegerField(null=True)
        out_trade_no = CharField(max_length=32, unique=True)
        provider = CharField(max_length=16)
        amount_fen = BigIntegerField()
        code_last4 = CharField(max_length=4, default="")
        created_at = DateTimeField()
        state = CharField(max_length=12)
        transaction_id = CharField(max_length=64, default="")
        reason_code = CharField(max_length=64, default="")
        reason = CharField(max_length=255, default="")
        updated_at = DateTimeField()
        sale = IntegerField(null=True)

        class Meta:
            table_name = "payment_attempt"

    with database.bind_ctx([PaymentAttempt]):
        database.create_tables([PaymentAttempt])
    for statement in (
        "CREATE INDEX payment_attempt_open ON payment_attempt (till_id, id) "
        "WHERE state IN ('requested', 'waiting', 'unknown', 'cancelling', 'paid') AND sale IS NULL",
        "CREATE INDEX payment_attempt_basket ON payment_attempt (basket) WHERE basket IS NOT NULL",
        "ALTER TABLE payment ADD COLUMN out_trade_no VARCHAR(32) NOT NULL DEFAULT ''",
    ):
        database.execute_sql(statement)


def _m011_z_reports_sealed(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """Z reports join the audit chain: till_counter.z_unsealed, the last Z of each till closed before this.

    From here each Z report is sealed in its till's audit chain when it is
    closed; verify names a Z above ``z_unsealed`` that has no audit record.
    """
    for statement in (
        "ALTER TABLE till_counter ADD COLUMN z_unsealed INTEGER NOT NULL DEFAULT 0",
        "INSERT INTO till_counter (till_id, last_receipt_no, last_hash, audit_seq, audit_hash) "
        "SELECT DISTINCT till_id, 0, '" + "0" * 64 + "', 0, '" + "0" * 64 + "' FROM z_report "
        "WHERE till_id NOT IN (SELECT till_id FROM till_counter)",
        "UPDATE till_counter SET z_unsealed = COALESCE((SELECT MAX(z_no) FROM z_report "
        "WHERE z_report.till_id = till_counter.till_id), 0)",
    ):
        database.execute_sql(statement)


def _m012_provider_refunds(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """Provider refunds: the refund of a WeChat Pay or Alipay payment a refund or void document asks for.

    - provider_refund_open: a partial index holding only the refunds not settled yet (requested, pending,
      unknown), per till: what the till follows at start, bounded by open work;
    - provider_refund_document: the provider refunds of one document (history, receipts, reports).
    """

    class Base(Model):
        class Meta:
            legacy_table_names = False

    class ProviderRefund(Base):
        till_id = CharField(max_length=8)
        document = IntegerField()
        position = IntegerField()
        out_refund_no = CharField(max_length=64, unique=True)
        out_trade_no = CharField(max_length=32)
        provider = CharField(max_length=16)
        total_fen = BigIntegerField()
        amount_fen = BigIntegerField()
        created_at = DateTimeField()
        state = CharField(max_length=12)
        refund_id = CharField(max_length=64, default="")
        reason_code = CharField(max_length=64, default="")
        reason = CharField(max_length=255, default="")
        updated_at = DateTimeField()

        class Meta:
            table_name = "provider_refund"

    with database.bind_ctx([ProviderRefund]):
        database.create_tables([ProviderRefund])
    for statement in (
        "CREATE INDEX provider_refund_open ON provider_refund (till_id, id) "
        "WHERE state IN ('requested', 'pending', 'unknown')",
        "CREATE INDEX provider_refund_document ON provider_refund (document)",
        "CREATE INDEX provider_refund_order ON provider_refund (out_trade_no)",
    ):
        database.execute_sql(statement)


def _m013_stock(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """Stock: append-only moves, a balance per product kept with each move, stocktakes and their lines.

    - stock_move_product: a product's moves in order (its history, the balance check);
    - stock_count_line_count: the lines of one count.
    """

    class Base(Model):
        class Meta:
            legacy_table_names = False

    class Product(Base):
        class Meta:
            table_name = "product"

    class StockMove(Base):
        product = ForeignKeyField(Product, index=False, column_name="product_id")
        kind = CharField(max_length=8)
        qty_milli = BigIntegerField()
        cost_fen = BigIntegerField(default=0)
        reason = CharField(max_length=12, default="")
        note = CharField(max_length=255, default="")
        document = IntegerField(null=True)
        count = IntegerField(null=True)
        ref = CharField(max_length=64, default="")
        till_id = CharField(max_length=8)
        at = DateTimeField(index=True)
        cashier = CharField(max_length=16, default="")
        manager = CharField(max_length=16, default="")

        class Meta:
            table_name = "stock_move"

    class StockBalance(Base):
        product = ForeignKeyField(Product, primary_key=True, column_name="product_id")
        on_hand_milli = BigIntegerField(default=0)
        avg_cost_fen = BigIntegerField(default=0)
        min_milli = BigIntegerField(null=True)
        last_move = IntegerField(default=0)

        class Meta:
            table_name = "stock_balance"

    class StockCount(Base):
        till_id = CharField(max_length=8)
        number = IntegerField()
        started_at = DateTimeField()
        cashier = CharField(max_length=16, default="")
        whole = IntegerField(default=0)
        state = CharField(max_length=8, default="open")
        applied_at = DateTimeField(null=True)
        manager = CharField(max_length=16, default="")

        class Meta:
            table_name = "stock_count"
            indexes = ((("till_id", "number"), True),)

    class StockCountLine(Base):
        count = ForeignKeyField(StockCount, column_name="count_id")
        product = ForeignKeyField(Product, column_name="product_id", index=False)
        counted_milli = BigIntegerField()
        expected_milli = BigIntegerField()
        counted_at = DateTimeField()
        cashier = CharField(max_length=16, default="")

        class Meta:
            table_name = "stock_count_line"

    tables = [StockMove, StockBalance, StockCount, StockCountLine]
    with database.bind_ctx([Product] + tables):
        database.create_tables(tables)
    database.execute_sql("CREATE INDEX stock_move_product ON stock_move (product_id, id)")


def _m014_sync_mark(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """sync_mark: per till, the last audit record the server has acknowledged, and this database's instance id.

    The instance is a random id made once per local database: the server refuses a second database claiming
    a till id it already knows (store.server).
    """
    stamp = "DATETIME" if isinstance(database, peewee.SqliteDatabase) else "TIMESTAMP"
    database.execute_sql(
        "CREATE TABLE sync_mark (till_id VARCHAR(8) NOT NULL PRIMARY KEY, sent_seq INTEGER NOT NULL DEFAULT 0, "
        f"sent_hash VARCHAR(64) NOT NULL DEFAULT '{'0' * 64}', sent_at {stamp}, "
        "instance VARCHAR(32) NOT NULL)")


def _m015_shared_data(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """Shared data from the shop's server (store.shared_data): what the local copy equals, shared settings.

    - shared_copy: per shared table, the server (its instance) and the version the local copy was made from;
    - shared_setting: [selling] and [limits] values the shop sets for every till (JSON values).
    """

    class Base(Model):
        class Meta:
            legacy_table_names = False

    class SharedCopy(Base):
        name = CharField(max_length=32, primary_key=True)
        instance = CharField(max_length=64, default="")
        version = BigIntegerField(default=0)
        pulled_at = DateTimeField(null=True)

        class Meta:
            table_name = "shared_copy"

    class SharedSetting(Base):
        section = CharField(max_length=32)
        key = CharField(max_length=64)
        value = TextField()
        changed_at = DateTimeField(null=True)
        changed_by = CharField(max_length=50, default="")

        class Meta:
            table_name = "shared_setting"
            primary_key = peewee.CompositeKey("section", "key")

    tables = [SharedCopy, SharedSetting]
    with database.bind_ctx(tables):
        database.create_tables(tables)


def _m017_sync_error(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """sync_mark.error, error_at: the sync worker's last failing sentence ("" once a round works again) and when
    it was said, so another process (``chaoying sync status``) can show it. Written when it changes, not each round.
    """
    stamp = "DATETIME" if isinstance(database, peewee.SqliteDatabase) else "TIMESTAMP"
    database.execute_sql("ALTER TABLE sync_mark ADD COLUMN error TEXT NOT NULL DEFAULT ''")
    database.execute_sql(f"ALTER TABLE sync_mark ADD COLUMN error_at {stamp}")


def _m016_shop_wide(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """Shop-wide features (store.shop_wide): local copies of other tills' documents, held baskets pushed."""

    class Base(Model):
        class Meta:
            legacy_table_names = False

    class ForeignCopy(Base):
        kind = CharField(max_length=8)
        local_id = IntegerField()
        server_id = BigIntegerField()
        till_id = CharField(max_length=8)
        receipt_no = IntegerField(default=0)
        copied_at = DateTimeField()

        class Meta:
            table_name = "foreign_copy"
            primary_key = CompositeKey("kind", "local_id")
            indexes = ((("kind", "server_id"), True), (("till_id",), False))

    class HeldPush(Base):
        basket = IntegerField(primary_key=True)
        state = CharField(max_length=10)
        pushed_at = CharField(max_length=32, default="")
        taken_by = CharField(max_length=8, default="")
        at = DateTimeField()

        class Meta:
            table_name = "held_push"
            indexes = ((("state",), False),)

    with database.bind_ctx([ForeignCopy, HeldPush]):
        database.create_tables([ForeignCopy, HeldPush])


def _m018_shop_stock(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """The shop's stock as the server last said it (store.shop_stock), apart from the till's own balances.

    - shop_stock: per product, the server's on hand (every till's synced moves), average cost and threshold;
    - shop_stock_mark: one row: the server it came from, its version, this till's head seq there at that
      moment and the first local move the figure does not hold (moves from it on are added on the till).
    """
    stamp = "DATETIME" if isinstance(database, peewee.SqliteDatabase) else "TIMESTAMP"
    database.execute_sql(
        "CREATE TABLE shop_stock (product_id INTEGER NOT NULL PRIMARY KEY, on_hand_milli BIGINT NOT NULL DEFAULT 0, "
        "avg_cost_fen BIGINT NOT NULL DEFAULT 0, min_milli BIGINT, version BIGINT NOT NULL DEFAULT 0)")
    database.execute_sql(
        "CREATE TABLE shop_stock_mark (id INTEGER NOT NULL PRIMARY KEY, instance VARCHAR(64) NOT NULL DEFAULT '', "
        "version BIGINT NOT NULL DEFAULT 0, till_id VARCHAR(8) NOT NULL DEFAULT '', "
        "head_seq BIGINT NOT NULL DEFAULT 0, first_move BIGINT NOT NULL DEFAULT 0, "
        f"pulled_at {stamp}, checked_at {stamp})")


def _m002_catalogue(database: peewee.Database, migrator: SchemaMigrator) -> None:
    from store.catalogue_migration import create_catalogue_tables

    create_catalogue_tables(database, migrator)


MigrationFn = Callable[[peewee.Database, "SchemaMigrator"], None]

MIGRATIONS: List[Tuple[int, str, MigrationFn]] = [
    (1, "create tables", _m001_create_tables),
    (2, "catalogue: search keys, price changes, pinyin index", _m002_catalogue),
    (3, "cashier: manager flag", _m003_cashier_manager),
    (4, "indexes bounded by open work; history search indexes, line names", _m004_bounded_queries),
    (5, "till_lock: one running till per till id", _m005_till_lock),
    (6, "print_attempt: evidence (printer or cashier)", _m006_print_evidence),
    (7, "documents (refund, void), discounts, open and held baskets", _m007_documents_and_baskets),
    (8, "shifts, cash moves, hand-overs, Z reports", _m008_shifts_and_z_reports),
    (9, "audit chain over outcomes, print attempts and events; checkpoints; HMAC hash kinds", _m009_audit_chain),
    (10, "payment attempts (WeChat Pay, Alipay) and the payment's out_trade_no", _m010_payment_attempts),
    (11, "Z reports sealed in the audit chain; till_counter.z_unsealed", _m011_z_reports_sealed),
    (12, "provider refunds (WeChat Pay, Alipay) of refund and void documents", _m012_provider_refunds),
    (13, "stock: moves, balances, stocktakes", _m013_stock),
    (14, "sync_mark: what the server has acknowledged, per till; the instance id", _m014_sync_mark),
    (15, "shared data from the shop's server: shared_copy, shared_setting", _m015_shared_data),
    (16, "shop-wide: local copies of other tills' documents, held baskets pushed to the server", _m016_shop_wide),
    (17, "sync_mark: the sync's last error and when, for chaoying sync status", _m017_sync_error),
    (18, "shop stock: the server's balances of every till's moves, and what this till added since", _m018_shop_stock),
]

LATEST = MIGRATIONS[-1][0]


def current_version(database: peewee.Database) -> int:
    """Highest applied migration number; 0 for an empty database."""
    if not database.table_exists("schema_version"):
        return 0
    cursor = database.execute_sql('SELECT MAX(version) FROM "schema_version"')
    row = cursor.fetchone()
    return int(row[0] or 0)


def migrate(database: peewee.Database) -> List[int]:
    """Apply every pending migration to ``database``; return the numbers applied."""
    if current_version(database) >= LATEST:
        return []  # the common case: no write lock taken
    sqlite = isinstance(database, peewee.SqliteDatabase)
    if sqlite:
        transaction = database.atomic(lock_type="IMMEDIATE")
    else:
        transaction = database.atomic()
    applied: List[int] = []
    with transaction, database.bind_ctx([SchemaVersion]):
        if not sqlite:
            database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_LOCK_KEY,))
        database.create_tables([SchemaVersion], safe=True)
        version = current_version(database)  # again, under the lock
        from playhouse.migrate import SchemaMigrator

        migrator = SchemaMigrator.from_database(database)
        for number, name, function in MIGRATIONS:
            if number <= version:
                continue
            log.info("applying migration %d: %s", number, name)
            function(database, migrator)
            SchemaVersion.create(version=number, name=name)
            applied.append(number)
    return applied
