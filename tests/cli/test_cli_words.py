"""The command line counts in English: "1 product", "2 products"."""
from __future__ import annotations


def test_one_of_a_thing_is_singular(shop):
    path = shop.csv("one.csv", "barcode,name,price\n6901,苹果,1\n")
    assert shop.ok("products", "import", str(path)).stdout.startswith("imported 1 product from ")
    again = shop.ok("products", "import", str(path)).stdout
    assert again.startswith("nothing changed: the product in ") and "is already" in again
    assert shop.ok("products", "export", str(shop.home / "out.csv")).stdout.startswith("exported 1 product to ")
    shop.seed(1)
    assert shop.ok("journal", "verify").stdout.strip() == "journal ok: 1 sale"
    assert shop.ok("receipts", "list").stdout.splitlines()[-1] == "1 receipt on till 1"
    assert shop.ok("sales", "list").stdout.splitlines()[-1].startswith("1 sale on till 1 ")


def test_many_are_plural(shop):
    path = shop.csv("two.csv", "barcode,name,price\n6901,苹果,1\n6902,香蕉,2\n")
    assert shop.ok("products", "import", str(path)).stdout.startswith("imported 2 products from ")
    assert shop.ok("receipts", "list").stdout.strip() == "0 receipts on till 1"


def test_run_help_says_what_run_does(cli):
    result = cli("run", "--help")
    assert result.returncode == 0
    usage, _, rest = result.stdout.partition("\n\n")
    assert rest.strip().splitlines()[0].startswith("Run the till"), result.stdout


def _readme_section(title: str) -> str:
    from tests.cli.helpers import REPO

    text = (REPO / "README.md").read_text(encoding="utf-8")
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_command_line_names_every_products_action():
    import argparse

    from tui.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    products = sub.choices["products"]
    actions = next(a for a in products._actions if isinstance(a, argparse._SubParsersAction))
    section = _readme_section("Command line")
    assert [name for name in actions.choices if name not in section] == []


def test_the_readme_says_what_auto_language_does_with_the_locale():
    from tui.i18n import resolve_language

    section = _readme_section("Configuration")
    assert "`C.UTF-8`" in section and "English" in section and "LC_ALL" in section
    assert resolve_language("auto", {"TERM": "xterm", "LANG": "C.UTF-8"}) == "en"  # as the README says
    assert resolve_language("auto", {"TERM": "xterm", "LANG": "zh_CN.UTF-8"}) == "zh"
