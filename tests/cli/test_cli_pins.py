"""No PIN in argv (issue 25, findings 5 and 7): a PIN is asked for, hidden, or piped in with --pin-stdin.

`--pin 1234` or `--manager-pin 9999` would show in ps and the shell history:
they are refused in one sentence that says what to do instead, and nothing
is written.
"""
from __future__ import annotations

import os
import select
import subprocess
import time

import pytest

from tests.cli.helpers import command, one_line, process_env

ADD = ("cashiers", "add", "--code", "C1", "--name", "小李")


def pin_hash(shop, code: str) -> str:
    rows = shop.sql("select pin_hash from cashier where code = ?", code)
    return rows[0][0] if rows else ""


def test_a_pin_on_stdin_adds_the_cashier_who_then_signs_in_with_it(shop):
    from store.cashiers import verify_pin

    assert "added cashier C1 (小李)" in shop.ok(*ADD, "--pin-stdin", input="2468\nignored\n").stdout
    assert verify_pin("2468", pin_hash(shop, "C1")) and "2468" not in pin_hash(shop, "C1")


@pytest.mark.parametrize("option", ["--pin", "--pin=1234", "--manager-pin"])
def test_a_pin_in_argv_is_refused_with_how_to_give_it_and_nothing_is_written(shop, option):
    args = (option,) if "=" in option else (option, "1234")
    result = shop.run(*ADD, *args, input="1234\n")
    assert result.returncode == 2
    sentence = one_line(result.stderr)
    assert "would show the PIN in ps and the shell history; leave it out to be asked for the PIN (hidden), " \
           "or pipe it in with --pin-stdin; nothing was changed" in sentence
    assert "1234" not in sentence
    assert shop.sql("select count(*) from cashier") == [(0,)]


def test_a_manager_pin_in_argv_is_refused_for_a_pay_out_and_moves_no_cash(shop):
    shop.ok("cashiers", "add", "--code", "M1", "--name", "店长", "--manager", "--pin-stdin", input="999999\n")
    shop.ok("shift", "open", "--float", "500")
    result = shop.run("shift", "pay-out", "80", "--reason", "货款", "--manager-pin", "999999")
    assert result.returncode == 2
    assert "give --manager CODE to be asked for the manager's PIN" in one_line(result.stderr)
    assert shop.sql("select count(*) from cash_move") == [(0,)]
    shop.ok("shift", "pay-out", "80", "--reason", "货款", "--manager", "M1", "--pin-stdin", input="999999\n")
    assert shop.sql("select amount_fen, manager from cash_move") == [(8000, "M1")]


@pytest.mark.parametrize("args, stdin, words", [
    ((), "2468\n", "no terminal to ask for the PIN on; pipe it in with --pin-stdin"),
    (("--pin-stdin",), "", "no PIN on the first line of stdin"),
    (("--pin-stdin",), "\n", "no PIN on the first line of stdin"),
])
def test_no_pin_to_read_is_one_sentence_and_nothing_is_written(shop, args, stdin, words):
    result = shop.run(*ADD, *args, input=stdin)
    assert result.returncode == 2 and words in one_line(result.stderr)
    assert shop.sql("select count(*) from cashier") == [(0,)]


def read_until(fd: int, text: str, seen: bytearray) -> None:
    """Read the terminal until ``text`` shows (or give up after a minute: the test then fails on what it saw)."""
    give_up = time.monotonic() + 60
    while text.encode() not in seen and time.monotonic() < give_up:
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                seen += os.read(fd, 1024)
            except OSError:  # the other side closed
                return


def test_on_a_terminal_the_pin_is_asked_twice_and_never_echoed(shop):
    master, slave = os.openpty()
    argv = command() + shop.argv(ADD)
    process = subprocess.Popen(argv, cwd=str(shop.home), env=process_env(shop.home), stdin=slave, stdout=slave,
                               stderr=slave, start_new_session=True)
    os.close(slave)
    seen = bytearray()
    try:
        read_until(master, "PIN: ", seen)
        os.write(master, b"1357\n")
        read_until(master, "PIN again: ", seen)
        os.write(master, b"1357\n")
        read_until(master, "added cashier C1", seen)
        assert process.wait(timeout=60) == 0, bytes(seen)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    assert b"1357" not in seen  # hidden as typed
    from store.cashiers import verify_pin

    assert verify_pin("1357", pin_hash(shop, "C1"))
