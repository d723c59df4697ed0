"""Migration: catalogue search keys, price change record, pinyin index.

To be listed in ``store.migrations.MIGRATIONS`` as the next number. Like
every migration it declares frozen copies of its tables and never changes
once released.
"""
from __future__ import annotations

import datetime

import peewee
from peewee import BigIntegerField, CharField, CompositeKey, DateTimeField, ForeignKeyField, Model
from playhouse.migrate import SchemaMigrator, migrate

from store.db import is_sqlite


def create_catalogue_tables(database: peewee.Database, migrator: SchemaMigrator) -> None:
    """product_key (search keys), price_change, an index on product.pinyin; keys for existing products."""
    class Base(Model):
        class Meta:
            legacy_table_names = False

    class Product(Base):
        barcode = CharField(max_length=32, unique=True)
        name = CharField(max_length=100)

        class Meta:
            table_name = "product"

    class ProductKey(Base):
        kind = CharField(max_length=1)
        key = CharField(max_length=100)
        product = ForeignKeyField(Product, on_delete="CASCADE", column_name="product_id")

        class Meta:
            table_name = "product_key"
            primary_key = CompositeKey("kind", "key", "product")
            # SQLite: the primary key IS the table, no second copy in a rowid table
            without_rowid = is_sqlite(database)

    class PriceChange(Base):
        product = ForeignKeyField(Product, on_delete="CASCADE")
        old_price_fen = BigIntegerField()
        new_price_fen = BigIntegerField()
        changed_at = DateTimeField(default=datetime.datetime.now, index=True)
        changed_by = CharField(max_length=50, default="")
        source = CharField(max_length=16, default="")

        class Meta:
            table_name = "price_change"

    with database.bind_ctx([Product, ProductKey, PriceChange]):
        database.create_tables([ProductKey, PriceChange])
        migrate(migrator.add_index("product", ("pinyin",), False))
        from store.catalogue import product_keys

        rows = [(kind, key, product_id)
                for product_id, name in Product.select(Product.id, Product.name).tuples()
                for kind, key in product_keys(name)]
        for start in range(0, len(rows), 300):
            ProductKey.insert_many(rows[start:start + 300],
                                   fields=[ProductKey.kind, ProductKey.key, ProductKey.product]).execute()
