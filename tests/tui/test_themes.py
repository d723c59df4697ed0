"""Themes: auto picks linux16 on the Linux console (16 colours, ASCII only, English),
every theme loads, an unknown name falls back with one warning."""
from __future__ import annotations

import logging
import re

import pytest

from tests.tui.conftest import close_shop, make_shop, scans_not_merged
from tests.tui.helpers import COLA, printed_all, scan, wait_until
from tests.tui.language import data_strings

BORDERLESS = {"", "none", "hidden", "blank", "ascii"}
CONSOLE_GLYPHS = set("\u2580\u2584\u2588\u258c\u2590\u2591\u2592\u2593\u00a5\u00d7")  # CP437 blocks, yen, times


@pytest.mark.parametrize("setting, term, expected", [
    ("auto", "linux", "linux16"),
    ("auto", "xterm-256color", "dark"),
    ("auto", "", "dark"),
    ("light", "linux", "light"),          # asked for by name: the console gets what was asked
    ("high-contrast", "xterm", "high-contrast"),
    ("LINUX16", "xterm", "linux16"),
])
def test_theme_choice(setting, term, expected):
    import themes

    assert themes.choose(setting, {"TERM": term}) == (expected, None)


def test_an_unknown_theme_falls_back_to_what_auto_would_pick():
    import themes

    assert themes.choose("solarized", {"TERM": "xterm"}) == ("dark", "solarized")
    assert themes.choose("solarized", {"TERM": "linux"}) == ("linux16", "solarized")


def test_every_theme_has_its_css_files():
    import themes

    for name in themes.THEMES:
        for path in themes.css_paths(name):
            assert path.is_file(), path


def test_the_console_theme_uses_only_the_16_ansi_colours():
    from textual.color import Color

    import themes

    spec = themes.THEMES["linux16"]
    assert spec.theme.ansi and spec.ascii
    colours = [spec.theme.primary, spec.theme.secondary, spec.theme.accent, spec.theme.warning, spec.theme.error,
               spec.theme.success, spec.theme.foreground, spec.theme.background, spec.theme.surface,
               spec.theme.panel] + list(spec.theme.variables.values())
    colours = [c for c in colours if c and not c.startswith(("bold", "none", "reverse", "underline"))]
    for colour in colours:
        assert Color.parse(colour).ansi is not None, colour
    css = (themes.HERE / "linux16.tcss").read_text(encoding="utf-8")
    for word in ("rgb(", "hsl("):
        assert word not in css
    for value in __import__("re").findall(r":\s*([^;{}]+);", css):
        for token in value.split():
            assert not token.startswith("#"), value  # no true colour in the console theme


def assert_ascii_borders(screen) -> None:
    for widget in [screen] + list(screen.query("*")):
        styles = widget.styles
        for edge in (styles.border_top, styles.border_right, styles.border_bottom, styles.border_left):
            assert edge[0] in BORDERLESS, f"{widget!r} has a {edge[0]} border"


def assert_console_glyphs(app) -> None:
    from tests.tui.language import screen_lines

    text = "\n".join(screen_lines(app))
    for item in sorted(data_strings(app), key=len, reverse=True):
        text = text.replace(item, "")
        for word in item.split():
            text = text.replace(word, "")
    odd = sorted({c for c in text if ord(c) > 127 and c not in CONSOLE_GLYPHS})
    assert odd == [], f"glyphs the Linux console cannot draw: {odd}"
    assert_16_colours(app)


def assert_16_colours(app) -> None:
    """Every cell is drawn in the terminal's own 16 colours, and no text is in its background's colour."""
    from rich.color import ColorType

    for number, strip in enumerate(app.screen._compositor.render_strips()):
        for text, style, _ in strip:
            if style is None:
                continue
            for colour in (style.color, style.bgcolor):
                assert colour is None or colour.type in (ColorType.STANDARD, ColorType.DEFAULT), \
                    f"line {number}: {text!r} uses {colour}"
            if text.strip() and style.color is not None and not style.reverse:
                assert style.color != style.bgcolor, f"line {number}: {text!r} is invisible ({style})"


async def test_the_linux_console_gets_english_ascii_borders_and_16_colours(console_shop):
    from tui.screens.banner import BannerScreen
    from tui.screens.tender import TenderScreen

    app = console_shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "linux16" and app.native_ansi_color and app.language == "en"
        assert_ascii_borders(app.screen)
        await scan(pilot, COLA)
        assert_console_glyphs(app)  # the big total is drawn in ASCII too
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(app.screen, TenderScreen))
        assert_ascii_borders(app.screen)
        assert_console_glyphs(app)
        await pilot.press("escape", "f2")
        await pilot.pause()
        assert_ascii_borders(app.screen)
        await pilot.press("escape", "f1")
        await pilot.pause()
        assert_ascii_borders(app.screen)
        for key in ("f9", "f10"):  # the history and the event log
            await pilot.press("f1", key)
            await pilot.pause()
            assert_ascii_borders(app.screen)
            assert_console_glyphs(app)
            await pilot.press("escape")
        await pilot.press("f8")
        await pilot.pause()
        assert_ascii_borders(app.screen)
        await pilot.press("escape")
        console_shop.demo.set_fault("paper_out")
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        await wait_until(pilot, lambda: isinstance(app.screen, BannerScreen))
        assert_ascii_borders(app.screen)
        assert_console_glyphs(app)
        await pilot.press("d")
        await pilot.pause()
        assert_ascii_borders(app.screen)


async def test_the_ascii_check_sees_a_fancy_border(console_shop):
    app = console_shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.query_one("#entry").styles.border = ("round", "red")
        with pytest.raises(AssertionError):
            assert_ascii_borders(app.screen)


@pytest.mark.parametrize("size", [(80, 24), (132, 43)])
@pytest.mark.parametrize("name", ["dark", "light", "high-contrast", "linux16"])
async def test_every_theme_loads_and_draws_the_till(tmp_path, monkeypatch, name, size):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    shop = make_shop(tmp_path / "shop", theme=name)
    try:
        app = shop.app()
        async with app.run_test(size=size) as pilot:
            await scan(pilot, COLA)
            await pilot.pause()
            assert app.theme == name
            assert app.native_ansi_color == (name == "linux16")
            assert app.screen.query_one("#total").value == "3.00"
    finally:
        close_shop(shop)


@pytest.mark.parametrize("name", ["dark", "light", "high-contrast", "linux16"])
async def test_a_notification_never_covers_the_total_nor_the_entry(tmp_path, monkeypatch, name):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    shop = make_shop(tmp_path / "shop", theme=name)
    try:
        app = shop.app()
        async with app.run_test(size=(80, 24), notifications=True) as pilot:  # Pilot draws no toasts unless asked
            await scan(pilot, COLA)
            app.notify("Receipt 1-000001 reprinted (reprint 1)\nsecond line", timeout=30)
            await wait_until(pilot, lambda: any(toast.region.area for toast in app.screen.query("Toast")))
            toast = app.screen.query("Toast").first().region
            for covered in ("#totalbar", "#total", "#entry", "#topline"):
                assert not toast.overlaps(app.screen.query_one(covered).region), (name, covered, toast)
    finally:
        close_shop(shop)


async def test_an_unknown_theme_warns_once_and_the_till_runs(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    shop = make_shop(tmp_path / "shop", language="en", theme="solarized")
    try:
        app = shop.app()
        with caplog.at_level(logging.WARNING, logger="chaoying.tui.app"):
            async with app.run_test(size=(80, 24)) as pilot:
                await scan(pilot, COLA)
                await pilot.press("f1", "f1")
                await pilot.pause()
                messages = [n.message for n in app._notifications]
                assert app.theme == "dark"
                assert len([m for m in messages if "solarized" in m]) == 1, messages
                assert "No theme solarized; using dark" in messages[0]
        assert len([r for r in caplog.records if "solarized" in r.getMessage()]) == 1
    finally:
        close_shop(shop)


def test_the_theme_option_wins_over_the_settings(tmp_path):
    import argparse

    from tui.cli.till import _settings

    config = tmp_path / "chaoying.toml"
    config.write_text('[ui]\ntheme = "light"\n', encoding="utf-8")
    assert _settings(argparse.Namespace(config=str(config), theme=None, language=None)).ui.theme == "light"
    assert _settings(argparse.Namespace(config=str(config), theme="high-contrast", language=None)).ui.theme \
        == "high-contrast"


async def test_the_colour_check_sees_true_colour(shop):
    app = shop.app()  # the dark theme: true colour
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        with pytest.raises(AssertionError):
            assert_16_colours(app)


@pytest.mark.parametrize("name", ["dark", "light", "high-contrast", "linux16"])
def test_setting_the_theme_quietly_matches_textuals_watcher(name):
    """themes.set_app_theme does what `app.theme = name` does, minus the queued CSS refresh."""
    from textual.app import App
    from textual.filter import ANSIToTruecolor

    import themes

    def state(app):
        colour_filter = next(f for f in app._filters if isinstance(f, ANSIToTruecolor))
        return app.theme, set(app.classes), colour_filter.enabled, colour_filter._terminal_theme

    watched, quiet = App(), App()
    for app in (watched, quiet):
        for spec in themes.THEMES.values():
            app.register_theme(spec.theme)
    watched.theme = name
    themes.set_app_theme(quiet, name)
    assert state(quiet) == state(watched)
    assert state(quiet) != state(App())  # Textual's default theme: the check can see a difference
    # what the CSS refresh queued by the watcher would set
    assert quiet.stylesheet._variables == watched.get_css_variables()


async def test_the_till_starts_without_a_second_css_parse(shop, monkeypatch):
    """No CSS refresh before the first frame (it would parse every rule again); a later theme change refreshes."""
    from tui.app import ChaoyingApp

    refreshes = []
    original = ChaoyingApp.refresh_css

    def counted(self, *args, **kwargs):
        refreshes.append(self.theme)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ChaoyingApp, "refresh_css", counted)
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert refreshes == []
        app.theme = "light"
        await pilot.pause()
        assert refreshes == ["light"]


def assert_no_cjk(app, where: str) -> None:
    from tests.tui.language import screen_lines

    lines = [line for line in screen_lines(app) if re.search(r"[\u3400-\u9fff]", line)]
    assert lines == [], f"{where}: Chinese the Linux console draws as blocks: {lines}"


async def test_the_linux_console_shows_names_as_pinyin_everywhere(console_shop):
    """Basket, search, history, F7 paper, banner's handwritten receipt: pinyin; the paper itself stays Chinese."""
    from tui.screens.banner import BannerScreen
    from tui.screens.demo_views import PaperView
    from tui.screens.receipt_views import HandwrittenView

    console_shop.settings = scans_not_merged(console_shop.settings)  # two cola lines: one voided, one sold
    app = console_shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(pilot, COLA)
        await pilot.pause()
        assert "kekoukele" in "\n".join(screen_text_lines(app)).lower()
        assert_no_cjk(app, "basket")
        await scan(pilot, COLA)
        await pilot.press("f4")  # a void: its event names the product
        await pilot.pause()
        assert "kekoukele" in "\n".join(screen_text_lines(app)).lower()  # the message says what was voided
        assert_no_cjk(app, "void")
        await pilot.press("f2", *"kekou")
        await wait_until(pilot, lambda: "kekoukele" in "\n".join(screen_text_lines(app)).lower())
        assert_no_cjk(app, "search")
        await pilot.press("escape", "f12", "enter")
        await printed_all(pilot, app)
        await pilot.press("f9")
        await wait_until(pilot, lambda: "kekoukele" in "\n".join(screen_text_lines(app)).lower())
        assert_no_cjk(app, "history")
        await pilot.press("escape", "f10")
        await wait_until(pilot, lambda: "kekoukele" in "\n".join(screen_text_lines(app)).lower())
        assert_no_cjk(app, "event log")
        await pilot.press("escape", "f7")
        await wait_until(pilot, lambda: isinstance(app.screen, PaperView))
        assert_no_cjk(app, "paper view")
        assert "可口可乐" in console_shop.paper()[-1]  # the receipt itself is Chinese
        await pilot.press("escape")
        console_shop.demo.set_fault("paper_out")
        await scan(pilot, COLA)
        await pilot.press("f12", "enter")
        await printed_all(pilot, app)
        await wait_until(pilot, lambda: isinstance(app.screen, BannerScreen))
        assert_no_cjk(app, "banner")
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HandwrittenView))
        assert_no_cjk(app, "handwritten receipt")
        # laid out in pinyin with English labels (not romanised after a Chinese layout): the columns line up
        hand = str(app.screen.query_one("#hand-receipt").render()).splitlines()
        total = [line for line in hand if line.startswith("TOTAL")]
        priced = [line for line in hand if line.rstrip().endswith("3.00")]
        assert total and priced and len({len(line.rstrip()) for line in priced}) == 1, hand


def screen_text_lines(app):
    from tests.tui.language import screen_lines

    return screen_lines(app)
