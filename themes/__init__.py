"""The till's themes, in one dict: a Textual Theme (colours) plus its .tcss overlay.

Every theme loads ``dark.tcss`` first (layout and looks the themes share;
colours come from the theme's variables), then its own overlay, if any.
``linux16`` is for the Linux console: only the 16 ANSI colours (Textual's
native ANSI mode, no true colour) and ASCII borders; ``auto`` picks it when
``TERM=linux`` and ``dark`` everywhere else.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Mapping, NamedTuple, Optional, Tuple

from textual.theme import Theme

HERE = Path(__file__).resolve().parent
BASE_CSS = "dark.tcss"  # shared by every theme
DEFAULT = "dark"
CONSOLE = "linux16"


class ThemeSpec(NamedTuple):
    theme: Theme
    css: Tuple[str, ...] = ()  # overlays in themes/, loaded after BASE_CSS
    ascii: bool = False  # only ASCII glyphs: borders and the big amounts (Linux console fonts)


# The console draws 16 colours; bright backgrounds are not reliable there, so
# backgrounds stay on the 8 basic colours and brightness goes to the text.
_CONSOLE_VARIABLES = {
    "ansi-background": "ansi_black",
    "ansi-foreground": "ansi_white",
    "border": "ansi_cyan",
    "border-blurred": "ansi_white",
    "block-cursor-foreground": "ansi_black",
    "block-cursor-background": "ansi_cyan",
    "block-cursor-text-style": "bold",
    "block-cursor-blurred-foreground": "ansi_black",
    "block-cursor-blurred-background": "ansi_white",
    "block-hover-background": "ansi_black",
    "input-cursor-background": "ansi_white",
    "input-cursor-foreground": "ansi_black",
    "input-cursor-text-style": "none",
    "input-selection-background": "ansi_cyan",
    "input-selection-foreground": "ansi_black",
    "screen-selection-background": "ansi_cyan",
    "screen-selection-foreground": "ansi_black",
    "scrollbar": "ansi_cyan",
    "scrollbar-hover": "ansi_cyan",
    "scrollbar-active": "ansi_white",
    "scrollbar-background": "ansi_black",
    "scrollbar-background-hover": "ansi_black",
    "scrollbar-background-active": "ansi_black",
    "text-muted": "ansi_white",
    "text-disabled": "ansi_white",
    "text-warning": "ansi_bright_yellow",
    "text-error": "ansi_bright_red",
    "text-success": "ansi_bright_green",
    "text-accent": "ansi_bright_cyan",
    "footer-key-foreground": "ansi_bright_yellow",
}

_HIGH_CONTRAST_VARIABLES = {
    "text-muted": "#ffffff",
    "text-disabled": "#c0c0c0",
    "text-warning": "#ffff00",
    "text-error": "#ff6060",
    "text-success": "#00ff00",
    "text-accent": "#00ffff",
    "border": "#ffffff",
    "border-blurred": "#c0c0c0",
    "block-cursor-foreground": "#000000",
    "block-cursor-background": "#ffff00",
    "block-cursor-blurred-foreground": "#000000",
    "block-cursor-blurred-background": "#c0c0c0",
    "input-cursor-background": "#ffffff",
    "input-cursor-foreground": "#000000",
}

THEMES: Dict[str, ThemeSpec] = {
    # Textual's own dark palette: the look the till was designed in.
    "dark": ThemeSpec(Theme(
        name="dark", primary="#0178D4", secondary="#004578", accent="#ffa62b", warning="#ffa62b",
        error="#ba3c5b", success="#4EBF71", foreground="#e0e0e0", dark=True,
    )),
    "light": ThemeSpec(Theme(
        name="light", primary="#005fb8", secondary="#004578", accent="#a34d00", warning="#a34d00",
        error="#b00020", success="#1b7f3b", foreground="#1a1a1a", background="#f4f4f4",
        surface="#ffffff", panel="#e2e6ea", dark=False,
    ), css=("light.tcss",)),
    "high-contrast": ThemeSpec(Theme(
        name="high-contrast", primary="#0000c0", secondary="#00ffff", accent="#00ffff", warning="#ffff00",
        error="#ff3030", success="#00ff00", foreground="#ffffff", background="#000000",
        surface="#000000", panel="#000000", dark=True, text_alpha=1.0, luminosity_spread=0.1,
        variables=_HIGH_CONTRAST_VARIABLES,
    ), css=("high-contrast.tcss",)),
    "linux16": ThemeSpec(Theme(
        name="linux16", ansi=True, primary="ansi_blue", secondary="ansi_cyan", accent="ansi_cyan",
        warning="ansi_yellow", error="ansi_red", success="ansi_green", foreground="ansi_white",
        background="ansi_black", surface="ansi_black", panel="ansi_black", boost="ansi_black",
        dark=True, variables=_CONSOLE_VARIABLES,
    ), css=("linux16.tcss",), ascii=True),
}


def auto_theme(environ: Optional[Mapping[str, str]] = None) -> str:
    """linux16 on the Linux console (TERM=linux), else the default."""
    env = os.environ if environ is None else environ
    return CONSOLE if env.get("TERM", "") == "linux" else DEFAULT


def choose(setting: str, environ: Optional[Mapping[str, str]] = None) -> Tuple[str, Optional[str]]:
    """(theme to use, the unknown name asked for or None); unknown names fall back to auto."""
    name = (setting or "auto").strip().lower()
    if name == "auto":
        return auto_theme(environ), None
    if name in THEMES:
        return name, None
    return auto_theme(environ), setting


def css_paths(name: str) -> List[Path]:
    """The .tcss files of a theme, base first."""
    return [HERE / BASE_CSS] + [HERE / extra for extra in THEMES[name].css]


def names() -> List[str]:
    return ["auto"] + list(THEMES)


def set_app_theme(app, name: str) -> None:
    """``app.theme = name`` for an app that is not running yet, without parsing the CSS twice.

    Setting the reactive runs Textual's theme watcher, which queues a full CSS
    refresh: right after the first parse it would parse every rule again and
    restyle every widget (~10 ms of the till's start-up). Before the app runs
    there is nothing to refresh, so set the value quietly and do the rest of
    what the watcher and that refresh do: the stylesheet's variables, the
    theme classes and the ANSI colour filter (``tests/tui/test_themes.py``
    checks them against the watcher).
    """
    from textual.app import App

    app.set_reactive(App.theme, name)
    app.stylesheet.set_variables(app.get_css_variables())  # nothing parsed yet: nothing to parse again
    theme = app.current_theme
    classes = {cls: False for cls in app.classes if cls.startswith("-theme-")}
    classes.update({f"-theme-{theme.name}": True, "-dark-mode": theme.dark, "-light-mode": not theme.dark})
    app.update_classes(classes, update=False)
    app._refresh_truecolor_filter(app.ansi_theme)
