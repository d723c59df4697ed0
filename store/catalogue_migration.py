"""Migration 2: catalogue search keys, price change record, pinyin index.

Listed in ``store.migrations.MIGRATIONS``. Like every migration it never
changes once released: it declares frozen copies of its tables and of the
search-key code it runs (as ``store.catalogue`` and ``store.pinyin`` were
when it was released), so changing the catalogue later needs a new
migration (``store.catalogue.reindex`` recomputes every key), never an edit here.
"""
from __future__ import annotations

import datetime
import itertools
import re
import unicodedata
from typing import Dict, List, Tuple

import peewee
from peewee import BigIntegerField, CharField, CompositeKey, DateTimeField, ForeignKeyField, Model
from playhouse.migrate import SchemaMigrator, migrate

_WORD = re.compile(r"[0-9a-z]+")
_HAN_RUN = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)")


def _name_grams(name: str) -> List[str]:
    """Each two-character piece of each word of the name, and each word's last character."""
    grams: Dict[str, None] = {}
    for word in unicodedata.normalize("NFKC", name or "").lower().split():
        for index in range(len(word) - 1):
            grams[word[index:index + 2]] = None
        grams[word[-1]] = None
    return list(grams)


def _initials_of(char: str) -> Tuple[str, ...]:
    from pypinyin.pinyin_dict import pinyin_dict

    letters: List[str] = []
    for reading in pinyin_dict.get(ord(char), "").split(","):
        first = next((c for c in unicodedata.normalize("NFKD", reading) if "a" <= c <= "z"), "")
        if first and first not in letters:
            letters.append(first)
    return tuple(letters)


def _segments(run: str) -> List[str]:
    try:
        from pypinyin.seg.simpleseg import seg
    except ImportError:
        return [run]
    return list(seg(run))


def _alternative_initials(name: str) -> List[str]:
    """Initials of the other readings of a name's lone polyphonic characters (at most 4)."""
    from pypinyin import lazy_pinyin

    text = unicodedata.normalize("NFKC", name or "").lower()
    choices: List[Tuple[str, ...]] = []
    for index, part in enumerate(_HAN_RUN.split(text)):
        if not index % 2:
            choices.extend((word[0],) for word in _WORD.findall(part))
            continue
        for segment in _segments(part):
            readings = [r.lower() for r in lazy_pinyin(segment) if r.isascii() and r.isalpha()]
            if len(segment) == 1 and len(readings) == 1:
                first = readings[0][:1]
                choices.append((first,) + tuple(i for i in _initials_of(segment) if i != first))
            else:
                choices.extend((reading[:1],) for reading in readings)
    if all(len(choice) == 1 for choice in choices):
        return []
    default = "".join(choice[0] for choice in choices)[:100]
    found: List[str] = []
    for combo in itertools.product(*choices):
        key = "".join(combo)[:100]
        if key != default and key.isascii() and key not in found:
            found.append(key)
            if len(found) >= 4:
                break
    return found


def _product_keys(name: str) -> List[Tuple[str, str]]:
    return [("n", gram) for gram in _name_grams(name)] + [("i", key) for key in _alternative_initials(name)]


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
            without_rowid = isinstance(database, peewee.SqliteDatabase)

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
        rows = [(kind, key, product_id)
                for product_id, name in Product.select(Product.id, Product.name).tuples()
                for kind, key in _product_keys(name)]
        for start in range(0, len(rows), 300):
            ProductKey.insert_many(rows[start:start + 300],
                                   fields=[ProductKey.kind, ProductKey.key, ProductKey.product]).execute()
