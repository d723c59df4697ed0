"""Settings: defaults, lookup order, and one sentence naming file, line and key for every mistake."""
from __future__ import annotations

from pathlib import Path

import pytest

from printing.config import PrinterConfig
from tui.settings import (
    LimitsSettings,
    ReceiptSettings,
    ReprintSettings,
    Settings,
    SettingsError,
    default_text,
    defaults,
    find_config_path,
    load,
    load_settings,
    write_default,
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No settings or database from the machine running the tests leaks in."""
    monkeypatch.delenv("CHAOYING_CONFIG", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


def write(tmp_path: Path, text: str, name: str = "settings.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_for(path: Path) -> str:
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.count(". ") == 0, f"more than one sentence: {message}"
    return message


# ---------------------------------------------------------------- defaults

def test_missing_file_gives_every_default(tmp_path):
    s = load_settings(tmp_path / "nope.toml")
    assert s.path == tmp_path / "nope.toml"
    assert s.till.id == "1"
    assert s.ui.language == "auto" and s.ui.theme == "auto"
    assert s.printer.port == "/dev/ttyUSB0"
    assert s.printer.baudrate == 9600 and s.printer.width == 80
    assert s.printer.encoding == "gb18030" and s.printer.qr == "native"
    assert s.printer.confirm == "epson" and s.printer.barcode == "code128"
    assert s.printer.drawer is True and s.printer.rtscts is False
    assert s.spare_printer is None
    assert s.receipt == ReceiptSettings(header="", footer="谢谢惠顾，欢迎再次光临", language="zh")
    assert s.printer == PrinterConfig(port="/dev/ttyUSB0", name="main")


def test_none_gives_defaults_without_a_file():
    s = load_settings(None)
    assert s.path is None
    assert s == Settings(database=s.database, backup=s.backup, journal=s.journal)  # resolved to the user data dir


def test_every_key_has_a_default_and_the_written_default_reads_back(tmp_path):
    path = tmp_path / "deep" / "folder" / "chaoying.toml"
    write_default(path)
    text = path.read_text(encoding="utf-8")
    # Chinese and English comments for what a shop owner fills in.
    for phrase in ("店名", "shop name", "地址", "电话", "税号", "tax id", "收银台", "Till id",
                   "界面语言", "主题", "数据库", "Database", "打印机", "Backup printer", "票头", "票尾"):
        assert phrase in text, phrase
    for section, keys in defaults().items():
        assert f"[{section}]" in text
        for key in keys:
            assert any(line.startswith(f"{key} = ") for line in text.splitlines()), (section, key)
    resolved = load_settings(path)
    assert resolved == Settings(path=path, database=resolved.database, backup=resolved.backup,
                                journal=resolved.journal)
    assert resolved.journal.key_file == str(path.parent / "journal.key")  # beside the settings file
    assert default_text() == text


def test_a_partial_file_keeps_the_other_defaults(tmp_path):
    path = write(tmp_path, '[shop]\nname = "好又多便利店"\n[till]\nid = "A2"\n'
                           '[printer]\nwidth = 58\n[backup_printer]\nport = "/dev/ttyS1"\n')
    s = load_settings(path)
    assert s.shop.name == "好又多便利店" and s.shop.address == ""
    assert s.till.id == "A2"
    assert s.printer.width == 58 and s.printer.baudrate == 9600
    assert s.spare_printer is not None
    assert s.spare_printer.port == "/dev/ttyS1" and s.spare_printer.baudrate == 9600
    # The cash drawer is wired to the main printer.
    assert s.spare_printer.drawer is False


def test_signin_lock_reads_from_the_file(tmp_path):
    s = load_settings(write(tmp_path, "[signin]\nlock_attempts = 3\n"))
    assert (s.signin.lock_attempts, s.signin.lock_minutes) == (3, 5)


def test_limits_read_from_the_file_and_a_negative_one_is_refused_naming_its_line(tmp_path):
    assert load_settings(None).limits == LimitsSettings(max_qty=999, max_line_fen=1_000_000, max_change_fen=100_000)
    s = load_settings(write(tmp_path, "[limits]\nmax_qty = 50\nmax_change_fen = 0\n"))
    assert (s.limits.max_qty, s.limits.max_line_fen, s.limits.max_change_fen) == (50, 1_000_000, 0)
    message = error_for(write(tmp_path, "[limits]\nmax_line_fen = -1\n"))
    assert "line 2" in message and "[limits] max_line_fen must be 0 or more" in message, message


def test_selling_reads_from_the_file_and_a_bad_rounding_is_refused(tmp_path):
    s = load_settings(write(tmp_path, "[selling]\nrounding = \"jiao\"\ncashier_max_discount = 20\n"))
    assert (s.selling.rounding, s.selling.cashier_max_discount, s.selling.merge_scans) == ("jiao", 20, True)
    message = error_for(write(tmp_path, "[selling]\nrounding = \"fen\"\n"))
    assert "line 2" in message and "rounding" in message, message


def test_till_id_written_as_a_number_is_text(tmp_path):
    assert load_settings(write(tmp_path, "[till]\nid = 3\n")).till.id == "3"


def test_stopbits_one_and_a_half(tmp_path):
    assert load_settings(write(tmp_path, "[printer]\nstopbits = 1.5\n")).printer.stopbits == 1.5


def test_a_utf8_bom_is_fine(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes("\ufeff[shop]\nname = \"超赢\"\n".encode("utf-8"))
    assert load_settings(path).shop.name == "超赢"


# ---------------------------------------------------------------- lookup order

def test_lookup_cli_path_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAOYING_CONFIG", str(tmp_path / "env.toml"))
    assert find_config_path(str(tmp_path / "cli.toml")) == tmp_path / "cli.toml"


def test_lookup_env_before_platform_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAOYING_CONFIG", str(tmp_path / "env.toml"))
    assert find_config_path(None) == tmp_path / "env.toml"


def test_lookup_platform_config_dir_last(tmp_path):
    assert find_config_path(None) == tmp_path / "xdg-config" / "chaoying" / "chaoying.toml"


def test_a_named_file_that_does_not_exist_is_refused(tmp_path, monkeypatch):
    for named in (str(tmp_path / "typo.toml"), None):
        if named is None:
            monkeypatch.setenv("CHAOYING_CONFIG", str(tmp_path / "env-typo.toml"))
        with pytest.raises(SettingsError) as caught:
            load(named)
        assert "does not exist" in str(caught.value) and "typo.toml" in str(caught.value)


def test_a_missing_default_file_gives_the_defaults(tmp_path):
    assert load(None).path == tmp_path / "xdg-config" / "chaoying" / "chaoying.toml"
    assert load(None).till.id == "1"


def test_lookup_expands_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert find_config_path("~/x.toml") == tmp_path / "x.toml"


# ---------------------------------------------------------------- database url

def test_empty_url_is_a_sqlite_file_in_the_user_data_dir(tmp_path):
    url = load_settings(None).database.url
    assert url.startswith("sqlite:///")
    assert Path(url[len("sqlite:///"):]).parent == (tmp_path / "xdg-data" / "chaoying").resolve()


def test_database_url_from_the_file(tmp_path):
    path = write(tmp_path, '[database]\nurl = "postgresql://till@db.local/shop"\n')
    assert load_settings(path).database.url == "postgresql://till@db.local/shop"


def test_relative_sqlite_file_is_next_to_the_settings_file(tmp_path):
    path = write(tmp_path, '[database]\nurl = "sqlite:///shop.db"\n')
    assert load_settings(path).database.url == "sqlite:///" + str((tmp_path / "shop.db").resolve())


def test_env_database_url_overrides_the_file(tmp_path, monkeypatch):
    path = write(tmp_path, '[database]\nurl = "sqlite:////tmp/from-file.db"\n')
    monkeypatch.setenv("DATABASE_URL", "postgresql://x@y/z")
    assert load_settings(path).database.url == "postgresql://x@y/z"
    monkeypatch.setenv("DATABASE_URL", "")
    assert load_settings(path).database.url == "sqlite:////tmp/from-file.db"


# ---------------------------------------------------------------- broken files: file, line, key

def test_wrong_type_names_file_line_and_key(tmp_path):
    path = write(tmp_path, "# shop\n[shop]\nname = \"x\"\n\n[printer]\nport = \"/dev/ttyS0\"\nbaudrate = \"fast\"\n")
    assert error_for(path) == f'{path} line 7: [printer] baudrate must be a whole number, not "fast".'


@pytest.mark.parametrize(
    "text, line, words",
    [
        ('[printer]\nbaudrate = 96000\n', 2, ["[printer] baudrate", "9600", "96000"]),
        ('[printer]\nwidth = 76\n', 2, ["[printer] width", "58", "80", "76"]),
        ('[printer]\nrtscts = "yes"\n', 2, ["[printer] rtscts", "true or false", '"yes"']),
        ('[printer]\nstopbits = 1.0\n', 2, ["[printer] stopbits", "1.0"]),
        ('[printer]\nparity = "X"\n', 2, ["[printer] parity", '"X"']),
        ('[printer]\nencoding = "klingon"\n', 2, ["[printer] encoding", '"klingon"']),
        ('[printer]\nqr = "big"\n', 2, ["[printer] qr", '"native"']),
        ('[printer]\nconfirm = "maybe"\n', 2, ["[printer] confirm", '"gs_r"']),
        ('[printer]\nbarcode = "qr"\n', 2, ["[printer] barcode", '"ean13"']),
        ('[printer]\ndrawer = 1\n', 2, ["[printer] drawer", "true or false"]),
        ('[backup_printer]\nport = 5\n', 2, ["[backup_printer] port", "text"]),
        ('[shop]\nname = 5\n', 2, ["[shop] name", "text", "5"]),
        ('[till]\nid = "有点长的收银台"\n', 2, ["[till] id", "1 to 8"]),
        ('[till]\nid = "a b"\n', 2, ["[till] id"]),
        ('[till]\nlock_timeout = 1\n', 2, ["[till] lock_timeout", "5 to 3600"]),
        ('[ui]\nlanguage = "fr"\n', 2, ["[ui] language", '"zh"', '"fr"']),
        ('[ui]\ntheme = false\n', 2, ["[ui] theme", "false"]),
        ('[receipt]\nlanguage = "de"\n', 2, ["[receipt] language", '"de"']),
        ('[receipt]\nfooter = ["a"]\n', 2, ["[receipt] footer", "a list"]),
        ('[database]\nurl = "shop.db"\n', 2, ["[database] url", '"shop.db"']),
    ],
)
def test_wrong_value(tmp_path, text, line, words):
    path = write(tmp_path, "# comment\n\n" + text)
    message = error_for(path)
    assert message.startswith(f"{path} line {line + 2}: "), message
    for word in words:
        assert word in message, (word, message)


def test_unknown_key_names_file_line_and_key(tmp_path):
    path = write(tmp_path, '[printer]\nport = "/dev/ttyS0"\nbaud = 9600\n')
    message = error_for(path)
    assert message == f"{path} line 3: [printer] baud is not a known setting; did you mean baudrate?"


def test_unknown_section_names_file_and_line(tmp_path):
    path = write(tmp_path, '[shop]\nname = "a"\n\n[printr]\nport = "x"\n')
    assert error_for(path) == f"{path} line 4: [printr] is not a known section; did you mean [printer]?"


def test_unknown_top_level_key(tmp_path):
    path = write(tmp_path, '# settings\nname = "a"\n')
    message = error_for(path)
    assert message.startswith(f"{path} line 2: name is not a known setting")


def test_section_that_is_not_a_table(tmp_path):
    message = error_for(write(tmp_path, '\nprinter = "/dev/ttyS0"\n'))
    assert " line 2: printer must be a section [printer]" in message


def test_inline_table_and_dotted_keys_are_checked_too(tmp_path):
    message = error_for(write(tmp_path, '\nprinter = { port = "x", baudrate = "fast" }\n'))
    assert " line 2: [printer] baudrate must be a whole number" in message
    message = error_for(write(tmp_path, '\n\nprinter.width = 76\n'))
    assert " line 3: [printer] width must be one of 58, 80, not 76" in message


def test_key_line_is_found_in_the_right_section(tmp_path):
    # "port" appears in both printer sections; the bad one is the second.
    path = write(tmp_path, '[printer]\nport = "/dev/ttyS0"\n\n[backup_printer]\nport = 7\n')
    assert error_for(path).startswith(f"{path} line 5: [backup_printer] port ")


def test_toml_syntax_error_names_file_line_and_key(tmp_path):
    path = write(tmp_path, '[shop]\nname = "a"\n\n[printer]\nbaudrate = fast\n')
    message = error_for(path)
    assert message.startswith(f"{path} line 5: [printer] baudrate is not valid TOML")


def test_unterminated_string(tmp_path):
    path = write(tmp_path, '[shop]\nname = "超赢\n')
    assert error_for(path).startswith(f"{path} line 2: [shop] name is not valid TOML")


def test_key_given_twice(tmp_path):
    path = write(tmp_path, '[shop]\nname = "a"\nphone = "1"\nname = "b"\n')
    assert error_for(path).startswith(f"{path} line 4: [shop] name is not valid TOML")


def test_section_given_twice(tmp_path):
    path = write(tmp_path, '[printer]\nwidth = 58\n\n[printer]\nport = "x"\n')
    assert error_for(path).startswith(f"{path} line 4: [printer] is not valid TOML")


def test_not_utf8(tmp_path):
    path = tmp_path / "gbk.toml"
    path.write_bytes('[shop]\nname = "超赢"\n'.encode("gbk"))
    assert error_for(path).startswith(f"{path} line 2: ")


def test_a_folder_is_not_a_settings_file(tmp_path):
    assert str(tmp_path) in error_for(tmp_path)


def test_errors_carry_path_line_and_key(tmp_path):
    path = write(tmp_path, '[printer]\n\nbaudrate = "fast"\n')
    with pytest.raises(SettingsError) as caught:
        load_settings(path)
    assert (caught.value.path, caught.value.line, caught.value.key) == (path, 3, "printer.baudrate")


def test_syntax_errors_carry_the_key_too(tmp_path):
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, '[printer]\nwidth = 58\nbaudrate = fast\n'))
    assert (caught.value.line, caught.value.key) == (3, "printer.baudrate")


# ---------------------------------------------------------------- [reprint]

def test_reprint_defaults_allow_every_reprint_without_a_pin(tmp_path):
    s = load_settings(tmp_path / "nope.toml")
    assert s.reprint == ReprintSettings(manager_pin=False, max=0)


def test_reprint_cap_and_manager_pin_from_the_file(tmp_path):
    s = load_settings(write(tmp_path, "[reprint]\nmanager_pin = true\nmax = 2\n"))
    assert s.reprint == ReprintSettings(manager_pin=True, max=2)


@pytest.mark.parametrize(
    "text, words",
    [
        ("[reprint]\nmax = -1\n", ["[reprint] max", "0 or more", "-1"]),
        ("[reprint]\nmax = 1.5\n", ["[reprint] max", "whole number"]),
        ('[reprint]\nmax = "2"\n', ["[reprint] max", "whole number"]),
        ('[reprint]\nmanager_pin = "yes"\n', ["[reprint] manager_pin", "true or false"]),
        ("[reprint]\nmanager = true\n", ["[reprint] manager", "not a known setting", "manager_pin"]),
    ],
)
def test_bad_reprint_settings_name_file_line_and_key(tmp_path, text, words):
    path = write(tmp_path, "# reprints\n" + text)
    message = error_for(path)
    assert message.startswith(f"{path} line 3: "), message
    for word in words:
        assert word in message, (word, message)


def test_till_lock_timeout_defaults_to_the_store_timeout_and_can_be_set(tmp_path):
    from store.tills import STALE_AFTER_S

    assert load_settings(tmp_path / "nope.toml").till.lock_timeout == STALE_AFTER_S
    assert load_settings(write(tmp_path, "[till]\nlock_timeout = 10\n")).till.lock_timeout == 10


def test_display_defaults_to_none_and_is_read_from_the_file(tmp_path):
    from tui.settings import DisplaySettings

    assert load_settings(tmp_path / "nope.toml").display == DisplaySettings(kind="none", port="", baudrate=9600,
                                                                            encoding="gb18030")
    text = '[display]\nkind = "vfd2x20"\nport = "/dev/ttyUSB1"\nbaudrate = 2400\nencoding = "ascii"\n'
    assert load_settings(write(tmp_path, text)).display == DisplaySettings("vfd2x20", "/dev/ttyUSB1", 2400, "ascii")


@pytest.mark.parametrize(
    "text, words",
    [
        ('[display]\nkind = "lcd"\n', ["[display] kind", '"none", "led8", "vfd2x20"', "lcd"]),
        ('[display]\nencoding = "klingon"\n', ["[display] encoding", "gb18030", "klingon"]),
        ("[display]\nbaudrate = 0\n", ["[display] baudrate", "1200 to 115200"]),
    ],
)
def test_bad_display_settings_name_file_line_and_key(tmp_path, text, words):
    path = write(tmp_path, "# customer display\n" + text)
    message = error_for(path)
    assert message.startswith(f"{path} line 3: "), message
    for word in words:
        assert word in message, (word, message)


def test_backup_folders_resolve_beside_the_settings_file(tmp_path):
    path = tmp_path / "shop.toml"
    path.write_text('[backup]\ndir = "b"\nsecond_dir = "/media/usb"\nkeep_daily = 3\n', encoding="utf-8")
    s = load_settings(path)
    assert s.backup.dir == str(tmp_path / "b") and s.backup.second_dir == "/media/usb" and s.backup.keep_daily == 3
    path.write_text("[backup]\nkeep_daily = 0\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="line 2.*keep_daily must be from 1 to 3650"):
        load_settings(path)
