"""The customer display: bytes against the LED (ESC s / ESC Q A) and CD5220 VFD command sets, the pty display."""
from __future__ import annotations

import os
import threading

from printing.customer_display import (
    Display,
    DisplayConfig,
    Screen,
    VirtualDisplay,
    decode,
    item_bytes,
    led_bytes,
    paid_change_bytes,
    shown,
    start_bytes,
    total_bytes,
    vfd_bytes,
)

VFD = DisplayConfig(kind="vfd2x20", encoding="gb18030")
VFD_ASCII = DisplayConfig(kind="vfd2x20", encoding="ascii")
LED = DisplayConfig(kind="led8")


def test_led_lights_one_lamp_then_shows_the_digits():
    assert led_bytes("price", 300) == b"\x1bs1\x1bQA3.00\r"
    assert total_bytes(LED, 2970) == b"\x1bs2\x1bQA29.70\r"
    assert paid_change_bytes(LED, 5000, 4700) == b"\x1bs3\x1bQA50.00\r\x1bs4\x1bQA47.00\r"
    assert item_bytes(LED, "可口可乐", 300) == b"\x1bs1\x1bQA3.00\r"
    assert start_bytes(LED).startswith(b"\x1b@\x1bs0")


def test_led_has_eight_digits_the_point_takes_none():
    assert led_bytes("total", 12345678) == b"\x1bs2\x1bQA123456.78\r"  # 8 digits
    assert led_bytes("total", 1234567800) == b"\x1bs2\x1bQA12345678\r"  # 10 digits: the fen give way


def test_vfd_writes_the_upper_then_the_lower_line_twenty_columns_each():
    data = vfd_bytes("Cola", "Price           3.00", "ascii")
    assert data == b"\x1bQACola                \r\x1bQBPrice           3.00\r"


def test_vfd_speaks_gb18030_and_cuts_chinese_at_twenty_columns():
    data = item_bytes(VFD, "可口可乐 Coca-Cola 330ml", 300)
    upper = data[3:data.index(b"\r")]
    assert len(upper) == 20
    assert upper.decode("gb18030") == "可口可乐 Coca-Cola 3"
    assert data.endswith("单价            3.00".encode("gb18030") + b"\r")


def test_an_ascii_only_vfd_gets_english_labels_and_question_marks():
    data = paid_change_bytes(VFD_ASCII, 5000, 4700)
    assert data == b"\x1bQAPaid           50.00\r\x1bQBChange         47.00\r"
    assert item_bytes(VFD_ASCII, "可乐 Cola", 300).startswith(b"\x1bQA?? Cola")


def test_vfd_start_inits_and_clears():
    assert start_bytes(VFD).startswith(b"\x1b@\x0c\x1bQA")


def test_decoding_gives_back_what_the_customer_sees():
    screen, tail = decode(start_bytes(VFD) + total_bytes(VFD, 2970), Screen())
    assert tail == b""
    assert shown(screen, "vfd2x20") == "合计" + " " * 16 + " | " + " " * 15 + "29.70"
    screen, _ = decode(paid_change_bytes(LED, 5000, 4700), Screen())
    assert shown(screen, "led8") == "[change] 47.00"
    screen, tail = decode(b"\x1bs2\x1bQA29", Screen())
    assert screen.lamp == "total" and tail == b"\x1bQA29"  # an unfinished command waits for the rest


def test_the_display_thread_sends_the_newest_picture_to_a_pty(tmp_path):
    link = str(tmp_path / "display")
    virtual = VirtualDisplay(link, "vfd2x20").start()
    display = Display(DisplayConfig(kind="vfd2x20", port=link)).start()
    try:
        display.show_total(2970)
        assert virtual.wait_for(lambda v: "29.70" in v.text(), 10)
        assert virtual.text().startswith("合计")
    finally:
        display.stop()
        virtual.stop()


def test_a_missing_port_is_reported_once_and_show_never_raises(tmp_path):
    troubles = []
    done = threading.Event()
    display = Display(DisplayConfig(kind="vfd2x20", port=str(tmp_path / "gone")),
                      on_trouble=lambda detail: (troubles.append(detail), done.set())).start()
    try:
        assert done.wait(10)
        for fen in range(20):
            display.show_item("Cola", fen)
        display.show_total(100)
        # a picture after the trouble is tried again (and fails again), but not reported again
        sent = threading.Event()
        original = display._send

        def send(data):
            try:
                original(data)
            finally:
                sent.set()

        display._send = send  # type: ignore[method-assign]
        display.show_total(200)
        assert sent.wait(10)
        assert len(troubles) == 1 and "not found" in troubles[0]
    finally:
        display.stop()


def test_a_display_that_stops_reading_times_out_instead_of_hanging(tmp_path):
    link = str(tmp_path / "display")
    virtual = VirtualDisplay(link, "vfd2x20").start()
    virtual.stalled = True
    fill = os.open(link, os.O_RDWR | os.O_NONBLOCK | os.O_NOCTTY)
    try:
        while True:  # the line is full: nothing more gets through
            os.write(fill, b" " * 4096)
    except BlockingIOError:
        pass
    troubled = threading.Event()
    display = Display(DisplayConfig(kind="vfd2x20", port=link), on_trouble=lambda _: troubled.set()).start()
    try:
        for fen in range(400):  # the line may still take a few pictures before it is full
            display.show_item("Cola" * 5, fen)
            if troubled.wait(0.05):
                break
        assert troubled.is_set()  # write_timeout: the thread gave up instead of blocking forever
    finally:
        display.stop()
        os.close(fill)
        virtual.stop()


def test_no_display_sends_nothing_and_starts_no_thread():
    display = Display(DisplayConfig()).start()
    display.show_item("Cola", 300)
    assert display._thread is None
