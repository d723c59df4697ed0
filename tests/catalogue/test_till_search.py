"""Stories on the real till (demo shop, virtual printer): F2 search, scale labels, mistyped codes."""
from __future__ import annotations

from tests.tui.conftest import shop  # noqa: F401 (the till's demo-shop fixture)
from tests.tui.helpers import printed_all, scan, wait_until


def basket(app):
    return [(line.name, line.qty_milli, line.amount_fen) for line in app.screen.basket.lines]


async def test_f2_kkkl_enter_adds_coca_cola(shop):
    from tui.screens.search import SearchScreen

    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press(*"kkkl")
        await pilot.press("enter")
        assert not isinstance(app.screen, SearchScreen)
        assert [name for name, _, _ in basket(app)] == ["可口可乐 Coca-Cola 330ml"]
        # Esc closes the popup and the basket is as it was; the entry line has the focus again
        await pilot.press("f2", *"xue", "escape")
        assert len(basket(app)) == 1 and app.focused.id == "entry"


async def test_f2_with_nothing_typed_lists_the_catalogue_to_browse(shop):
    """F2 on an empty entry: the catalogue by pinyin (the demo's 30 products); Down and Enter add one sold by
    the piece (a weighed one would ask its weight)."""
    from tui.screens.search import LIMIT, SearchScreen
    from tui.services.products import find_products

    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2")
        assert isinstance(app.screen, SearchScreen)
        await wait_until(pilot, lambda: bool(app.screen.results))
        listed = [p["name"] for p in app.screen.results]
        assert listed == [p["name"] for p in find_products("", LIMIT)] and len(listed) == LIMIT
        assert "商品目录" in str(app.screen.query_one("#search-status").render())
        index = next(i for i, p in enumerate(app.screen.results) if i and p["unit"] != "斤")
        await pilot.press(*["down"] * index, "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, SearchScreen))
        assert [name for name, _, _ in basket(app)] == [listed[index]]


async def test_a_price_label_from_the_scale_sells_at_the_label_price(shop):
    from store.codes import ScaleLayout, make_scale_label

    label = make_scale_label("1", 1234, ScaleLayout())     # PLU 1 = 苹果 8.90/斤, label 12.34
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, label)
        assert basket(app) == [("苹果 Apple", 1387, 1234)]
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        assert "12.34" in shop.paper()[-1]


async def test_a_weight_label_adds_the_weighed_quantity(shop):
    import dataclasses

    from store.codes import ScaleLayout, make_scale_label
    from tui.settings import ScaleSettings

    scale = ScaleSettings(prefixes=("28",), plu_digits=5, value="weight", value_digits=5, price_check=False)
    shop.settings = dataclasses.replace(shop.settings, scale=scale)
    label = make_scale_label("1", 750, ScaleLayout(("28",), 5, "weight", 5, False))   # 750 g = 1.5 斤
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, label)
        assert basket(app) == [("苹果 Apple", 1500, 1335)]


async def test_a_mistyped_barcode_is_refused_with_its_check_digit(shop):
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(pilot, "6901234567893")
        assert basket(app) == []
        message = str(app.screen.query_one("#message").render())
        assert "6901234567893" in message


async def test_f2_kele_finds_coca_cola_by_the_pinyin_of_its_middle(shop):
    from tui.screens.search import SearchScreen

    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f2", *"kele")
        await wait_until(pilot, lambda: [p["name"] for p in app.screen.results] == ["可口可乐 Coca-Cola 330ml"])
        assert isinstance(app.screen, SearchScreen)
        await pilot.press("enter")
        assert [name for name, _, _ in basket(app)] == ["可口可乐 Coca-Cola 330ml"]


async def test_the_till_renews_the_keys_of_products_an_older_version_saved(shop):
    from store import catalogue
    from store.models import ProductKey

    ProductKey.delete().where(ProductKey.kind.in_(["s", "v"])).execute()   # as an older version left them
    assert catalogue.search_products("pijiu") == []
    app = shop.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: catalogue.stale_products() == [])  # renewed after the first frame
        await pilot.press("f2", *"pijiu")
        await wait_until(pilot, lambda: [p["name"] for p in app.screen.results] == ["青岛啤酒 Tsingtao Beer 500ml"])
