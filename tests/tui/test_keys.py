"""Keys: [keys] in the settings remaps binding ids; a bad keymap is one sentence and exit 2;
F1 shows the keys of the screen it was pressed on."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tui.conftest import close_shop, make_shop
from tests.tui.helpers import COLA, printed_all, scan, screen_text, wait_until

CHAOYING = Path(sys.executable).parent / "chaoying"


@pytest.fixture(autouse=True)
def default_keymap():
    from tui import keymap

    keymap.configure({})
    yield
    keymap.configure({})


# ---------------------------------------------------------------- checking a keymap

def refused(overrides) -> str:
    from tui import keymap

    with pytest.raises(keymap.KeymapError) as caught:
        keymap.check(overrides)
    return str(caught.value)


def test_a_remap_is_normalised():
    from tui import keymap

    assert keymap.check({"sale.tender": "F13", "view.close": "Escape, q", "app.quit": "Ctrl+B"}) == \
        {"sale.tender": "f13", "view.close": "escape,q", "app.quit": "ctrl+b"}


def test_a_key_id_of_an_older_till_still_works():
    """discount.cancel became amount.cancel (one dialog): a settings file written before keeps its remap."""
    from tui import keymap

    assert keymap.check({"discount.cancel": "ctrl+b"}) == {"amount.cancel": "ctrl+b"}


def test_an_unknown_id_is_named_with_a_guess():
    assert refused({"sale.tendr": "f11"}) == '[keys] "sale.tendr" is not a key of the till; did you mean "sale.tender"?'


def test_a_key_name_textual_does_not_know_is_refused():
    message = refused({"sale.tender": "f99"})
    assert '"sale.tender"' in message and '"f99" is not a key name' in message
    assert "is not a key name" in refused({"banner.reprint": "hyper+r"})


def test_two_ids_on_one_screen_may_not_share_a_key():
    assert refused({"sale.tender": "f2"}) == \
        '[keys] "sale.tender" = "f2" collides with "sale.search" (F2) on the sale screen.'
    assert refused({"banner.reprint": "h"}).startswith('[keys] "banner.reprint" = "h" collides with "banner.handwritten"')


def test_a_screen_key_may_not_take_an_app_key():
    assert "collides with \"app.help\" (F1)" in refused({"tender.cash": "f1"})
    assert "app.quit" in refused({"app.quit": "f12"})  # F12 is the sale screen's pay key


def test_two_remapped_ids_may_swap_keys():
    from tui import keymap

    assert keymap.check({"sale.tender": "f2", "sale.search": "f12"}) == {"sale.tender": "f2", "sale.search": "f12"}


def test_the_same_key_on_different_screens_is_fine():
    from tui import keymap

    assert keymap.check({"banner.reprint": "f4"})  # F4 voids on the sale screen, the banner is another screen


def test_a_letter_would_type_into_the_entry_line():
    assert "typed into the entry line" in refused({"sale.tender": "t"})
    assert "typed into the entry line" in refused({"app.help": "question_mark"})


def test_a_letter_is_fine_on_the_banner():
    from tui import keymap

    assert keymap.check({"banner.reprint": "x"}) == {"banner.reprint": "x"}


def test_every_default_key_is_valid_and_the_defaults_do_not_collide():
    from tui import keymap

    assert keymap.check({}) == {}
    for group in keymap.KEYS.values():
        for key in group:
            for name in key.key.split(","):
                assert keymap.valid_key(name), (key.id, name)


# ---------------------------------------------------------------- the settings file

def test_keys_section_reads_quoted_and_dotted_ids(tmp_path):
    from tui.settings import load_settings

    path = tmp_path / "chaoying.toml"
    path.write_text('[keys]\n"sale.tender" = "f13"\nview.close = "escape,q"\n', encoding="utf-8")
    assert load_settings(path).keys == {"sale.tender": "f13", "view.close": "escape,q"}
    assert load_settings(None).keys == {}


def test_a_key_that_is_not_text_names_file_line_and_id(tmp_path):
    from tui.settings import SettingsError, load_settings

    path = tmp_path / "chaoying.toml"
    path.write_text('[keys]\n"sale.tender" = 11\n', encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert str(caught.value) == f'{path} line 2: [keys] "sale.tender" must be a key name in quotes, such as "f11", not 11.'


def run_cli(*args: str, tmp_path: Path):
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)
    env["CHAOYING_LOG_DIR"] = str(tmp_path / "logs")
    return subprocess.run([str(CHAOYING), *args], capture_output=True, text=True, env=env, timeout=60,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("table, words", [
    ('"sale.tender" = "f2"', ['line 3', '"sale.tender" = "f2" collides with "sale.search"', "sale screen"]),
    ('sale.tendr = "f11"', ['line 3', '"sale.tendr" is not a key of the till', 'did you mean "sale.tender"']),
    ('"banner.reprint" = "f99"', ['line 3', '"f99" is not a key name']),
])
@pytest.mark.parametrize("command", ["run", "demo"])
def test_a_broken_keymap_stops_the_cli_with_one_sentence(tmp_path, table, words, command):
    config = tmp_path / "broken.toml"
    config.write_text(f"# the shop's keys\n[keys]\n{table}\n", encoding="utf-8")
    result = run_cli("--config", str(config), command, "--dir", str(tmp_path / "d"), tmp_path=tmp_path) \
        if command == "demo" else run_cli("--config", str(config), command, tmp_path=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"chaoying: {config} line 3: [keys] ")
    for word in words:
        assert word in lines[0]
    assert not (tmp_path / "d").exists()  # nothing started


# ---------------------------------------------------------------- remapped keys in the till

@pytest.fixture
def remapped_shop(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    shop = make_shop(tmp_path / "shop", language="en")
    shop.settings = dataclasses.replace(shop.settings, keys={"sale.tender": "f13", "tender.cash": "f9,f2",
                                                             "till.history": "ctrl+e"})
    try:
        yield shop
    finally:
        close_shop(shop)


async def test_a_remapped_key_works_and_the_old_one_does_not(remapped_shop):
    from tui.screens.tender import TenderScreen

    app = remapped_shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.press("f12")  # the old pay key: nothing happens
        await pilot.pause()
        assert not isinstance(app.screen, TenderScreen)
        assert "F13 Pay" in screen_text(app)  # the key bar says the new key
        assert "F12" not in screen_text(app)
        await pilot.press("f13")
        await wait_until(pilot, lambda: isinstance(app.screen, TenderScreen))
        await pilot.press("f3", "f9")  # card, then cash again on the new second key (F9 no longer opens the history)
        await pilot.pause()
        assert app.screen.method == "cash"
        assert isinstance(app.screen, TenderScreen)
        await pilot.press("enter")
        await printed_all(pilot, app)
        assert not isinstance(app.screen, TenderScreen)


async def test_help_shows_the_remapped_keys_of_the_current_screen(remapped_shop):
    from tui.screens.help import HelpScreen

    app = remapped_shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = str(app.screen.query_one("#help-text").render())
        assert "F13" in text and "Pay" in text and "F12" not in text
        assert "^E" in text  # the history, moved (^O is the no-sale drawer)
        assert "Reprint" not in text  # the banner's keys are not the sale screen's


async def test_help_on_the_banner_shows_the_banner_keys(shop_en):
    from tui.screens.banner import BannerScreen
    from tui.screens.help import HelpScreen

    app = shop_en.app()
    async with app.run_test(size=(80, 24)) as pilot:
        shop_en.demo.set_fault("paper_out")
        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        await wait_until(pilot, lambda: isinstance(app.screen, BannerScreen))
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = str(app.screen.query_one("#help-text").render())
        for words in ("Receipt not printed", "R ", "Reprint", "Handwritten", "Declined", "F1", "Help", "Quit"):
            assert words in text, words
        assert "Void" not in text and "Scan or type" not in text
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, BannerScreen))


async def test_help_is_one_keypress_away_on_every_screen(shop_en):
    """F1 from the sale screen, the tender, the search, the fault menu: each shows its own keys first."""
    from tui.screens.help import HelpScreen

    app = shop_en.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        for opener, expected in ((), "Void"), (("f12",), "WeChat"), (("escape", "f2"), "Find a product"), \
                                (("escape", "f8"), "Paper out"):
            await pilot.press(*opener, "f1")
            await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
            assert expected in str(app.screen.query_one("#help-text").render()), expected
            await pilot.press("escape")
            await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))


def test_every_binding_of_the_till_has_an_id_from_the_keymap():
    import importlib
    import inspect
    import pkgutil

    from textual.binding import Binding
    from textual.dom import DOMNode

    import tui.screens
    from tui import keymap
    from tui.app import ChaoyingApp

    classes = [ChaoyingApp]
    for module in pkgutil.iter_modules(tui.screens.__path__):
        mod = importlib.import_module(f"tui.screens.{module.name}")
        classes += [c for _, c in inspect.getmembers(mod, inspect.isclass)
                    if issubclass(c, DOMNode) and c.__module__ == mod.__name__]
    checked = 0
    for cls in classes:
        for binding in cls.__dict__.get("BINDINGS", []):
            assert isinstance(binding, Binding), (cls, binding)
            assert binding.id and keymap.by_id(binding.id) is not None, (cls.__name__, binding)
            checked += 1
    assert checked > 40


# ---------------------------------------------------------------- the key bar at 80 columns

@pytest.mark.parametrize("language", ["zh", "en"])
async def test_the_key_bar_fits_80_columns_or_says_f1_for_more(tmp_path, monkeypatch, language):
    """80x24: every key shown whole (no bare 'F9'), and if some do not fit, 'F1 more' says where they are."""
    from tui.i18n import t
    from tui.screens.widgets import key_entries

    monkeypatch.delenv("DATABASE_URL", raising=False)
    shop = make_shop(tmp_path / "shop", language=language)
    try:
        app = shop.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            bar = app.screen.query_one("#keybar")
            text = bar.render()
            assert 0 < text.cell_length <= bar.content_size.width, str(text)
            shown = str(text)
            entries = key_entries(["sale", "demo", "app", "till"])
            missing = [key for key, label in entries if f"{key} {label}" not in shown]
            if missing:
                assert shown.endswith(f"F1 {t('key.more')}"), shown
            for key, label in entries:  # a key is shown with its words, or not at all
                if key == "F1":
                    continue  # shown as help, or as the "more" hint
                assert (f"{key} {label}" in shown) or (key + " " not in shown and not shown.endswith(key)), key
    finally:
        close_shop(shop)


async def test_one_remapped_key_closes_every_amount_dialog(tmp_path, monkeypatch):
    """[keys] "amount.cancel": the discount dialog (F5) and the float counted per denomination (F11 S) both
    go back on it."""
    from tui.screens.ask import AmountScreen
    from tui.screens.count import CountScreen

    monkeypatch.delenv("DATABASE_URL", raising=False)
    shop = make_shop(tmp_path / "shop", language="en")
    shop.settings = dataclasses.replace(shop.settings, keys={"amount.cancel": "ctrl+b"})
    try:
        app = shop.app()
        async with app.run_test(size=(80, 24)) as pilot:
            await scan(pilot, COLA)
            for opener in (("f5",), ("f11", "s")):
                await pilot.press(*opener)
                await wait_until(pilot, lambda: isinstance(app.screen, (AmountScreen, CountScreen)))
                assert "^B Back" in screen_text(app) and "Esc Back" not in screen_text(app)
                await pilot.press("escape")  # the old key: still asking
                await pilot.pause()
                assert isinstance(app.screen, (AmountScreen, CountScreen))
                await pilot.press("ctrl+b")
                await wait_until(pilot, lambda: app.screen is app.sale_screen)
    finally:
        close_shop(shop)
