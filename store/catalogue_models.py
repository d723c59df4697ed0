"""Catalogue tables: search keys per product and the price change record.

Kept apart from ``store.models`` until the migration that creates them is
registered in ``store.migrations`` (see ``store.catalogue_migration``).
"""
from __future__ import annotations

from peewee import BigIntegerField, CharField, CompositeKey, DateTimeField, ForeignKeyField, IntegerField

from store.models import BaseModel, Product, now


class ProductKey(BaseModel):
    """A search key of a product: a name gram (kind "n") or other initials of a polyphone name (kind "i").

    The primary key (kind, key, product) is the search index: a prefix of
    ``key`` is one range scan.
    """

    kind = CharField(max_length=1)
    key = CharField(max_length=100)
    product = ForeignKeyField(Product, on_delete="CASCADE", column_name="product_id")

    class Meta:
        table_name = "product_key"
        primary_key = CompositeKey("kind", "key", "product")
        without_rowid = True


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


CATALOGUE_MODELS = (ProductKey, PriceChange)
