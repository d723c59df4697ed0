"""ESC/POS bytes: Kanji mode, GB18030 text, sizes, QR, barcode, cut, drawer, degraded encodings."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest

from printing.config import PrinterConfig
from printing.encode import encode_receipt, encode_text
from printing.layout import layout
from printing.sample import sample_receipt

GS_QR = b"\x1d(k"
GS_RASTER = b"\x1dv0"


def cfg(**kw) -> PrinterConfig:
    return PrinterConfig(port="/dev/null", **kw)


def text_part(job: bytes) -> bytes:
    """The job up to the QR code or barcode: only text and style commands."""
    ends = [i for i in (job.find(GS_QR), job.find(GS_RASTER), job.find(b"\x1dk")) if i >= 0]
    return job[: min(ends)] if ends else job


@pytest.mark.parametrize("width", [58, 80])
def test_job_starts_with_init_and_kanji_mode_and_carries_gb18030_text(width):
    receipt = sample_receipt()
    job = encode_receipt(receipt, cfg(width=width))
    assert job.startswith(b"\x1b@\x1c&")
    assert b"\x1bt" not in text_part(job)  # never select a code table under Kanji mode
    for line in layout(receipt, 32 if width == 58 else 48):
        assert line.encode("gb18030") in job
    assert "超赢便利店".encode("gb18030") in job
    assert "￥".encode("gb18030") == b"\xa3\xa4" and b"\xa3\xa4" in job


def test_total_is_double_size_with_gs_bang_so_chinese_grows_too():
    job = encode_receipt(sample_receipt(), cfg())
    total = "合计".encode("gb18030")
    i = job.index(total)
    before = job[:i]
    assert before.rfind(b"\x1d!\x01") > before.rfind(b"\x1d!\x00")  # GS ! double height is on
    after = job[i:]
    assert b"\x1d!\x00" in after  # and switched off again
    assert after.index(b"\x1d!\x00") < after.index("现金".encode("gb18030"))
    assert b"\x1b!" not in text_part(job)  # ESC ! does not size Kanji


def test_native_qr_is_gs_paren_k_with_the_payload():
    receipt = sample_receipt()
    job = encode_receipt(receipt, cfg(qr="native"))
    assert GS_QR in job and receipt.qr_payload.encode() in job
    assert GS_RASTER not in job


def test_image_qr_is_a_raster_image_and_no_native_qr():
    job = encode_receipt(sample_receipt(), cfg(qr="image"))
    assert GS_RASTER in job and GS_QR not in job
    assert len(job) > len(encode_receipt(sample_receipt(), cfg(qr="native"))) + 500


def test_qr_none_sends_no_qr_at_all():
    job = encode_receipt(sample_receipt(), cfg(qr="none"))
    assert GS_QR not in job and GS_RASTER not in job
    assert sample_receipt().qr_payload.encode() not in job


def test_no_qr_payload_means_no_qr_even_when_native():
    job = encode_receipt(replace(sample_receipt(), qr_payload=""), cfg(qr="native"))
    assert GS_QR not in job


def test_barcode_of_the_receipt_number():
    job = encode_receipt(sample_receipt(), cfg(barcode="code128"))
    assert b"\x1dkI" in job and b"{B1-000042" in job
    ean = encode_receipt(sample_receipt(), cfg(barcode="ean13"))
    assert b"\x1dk\x02" + b"000001000042" + b"\x00" in ean
    none = encode_receipt(sample_receipt(), cfg(barcode="none"))
    assert b"\x1dk" not in none


def test_cut_at_the_end_and_drawer_kick_only_when_asked():
    job = encode_receipt(sample_receipt(), cfg())
    assert job.endswith(b"\x1dV\x00")
    assert b"\x1bp" not in text_part(job)
    kicked = encode_receipt(sample_receipt(), cfg(), open_drawer=True)
    assert kicked.startswith(b"\x1b@\x1c&\x1bp\x00")
    off = encode_receipt(sample_receipt(), cfg(drawer=False), open_drawer=True)
    assert b"\x1bp" not in text_part(off)


def test_cp437_degrades_visibly_with_question_marks_and_never_crashes():
    receipt = sample_receipt()
    job = encode_receipt(receipt, cfg(encoding="cp437"))
    assert job.startswith(b"\x1b@\x1c.")  # Kanji mode off for a single-byte code page
    assert "合计".encode("gb18030") not in job
    assert b"????" in job  # 合计 -> 4 columns of '?'
    assert b"206.55" in job and b"1-000042" in job
    # the columns stay where the layout put them: every text line keeps its width
    assert encode_text("可乐 3.50", "cp437") == b"???? 3.50"
    assert encode_text("5°C", "cp437") == b"5\xf8 C"  # ambiguous-width, one byte: padded


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "cp437", "big5", "shift_jis", "gbk"])
def test_any_encoding_encodes_without_error(encoding):
    assert encode_receipt(sample_receipt(), cfg(encoding=encoding))


def test_encoding_writes_nothing_to_stdout(capfd):
    encode_receipt(sample_receipt(), cfg(qr="image", barcode="code128"))
    encode_receipt(sample_receipt(), cfg(qr="native", barcode="ean13", width=58))
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_escpos_is_lazy_and_leaves_logging_quiet(tmp_path):
    code = (
        "import logging, sys\n"
        "import printing.printer, printing.layout, printing.encode, printing.spare\n"
        "assert 'escpos' not in sys.modules, 'escpos imported too early'\n"
        "assert not any(m == 'textual' or m.startswith(('textual.', 'store')) for m in sys.modules)\n"
        "from printing.encode import encode_receipt\n"
        "from printing.config import PrinterConfig\n"
        "from printing.sample import sample_receipt\n"
        "encode_receipt(sample_receipt(), PrinterConfig(port='x'))\n"
        "assert 'escpos' in sys.modules\n"
        "print(len(logging.getLogger().handlers))\n"
    )
    env = {"ESCPOS_CAPABILITIES_PICKLE_DIR": str(tmp_path / "escpos"), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"
    assert list((tmp_path / "escpos").glob("*.capabilities.pickle"))


_IMPORT_ESCPOS = "from printing.encode import escpos_module; escpos_module(); print('ok')"


def _escpos_env(tmp_path):
    return {"ESCPOS_CAPABILITIES_PICKLE_DIR": str(tmp_path / "escpos"), "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path), "PYTHONPATH": os.getcwd()}


def test_a_half_written_capability_cache_does_not_stop_the_printer(tmp_path):
    # What a process sees when another one is still writing the cache (CI once
    # failed on it): a truncated pickle, newer than python-escpos's source file.
    import platform

    (tmp_path / "escpos").mkdir()
    cache = tmp_path / "escpos" / ("%s.capabilities.pickle" % platform.python_version())
    cache.write_bytes(b"\x80\x02}q\x00")
    done = subprocess.run([sys.executable, "-c", _IMPORT_ESCPOS], capture_output=True, text=True,
                          env=_escpos_env(tmp_path), timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
    assert cache.stat().st_size > 1000


def test_processes_starting_together_share_the_capability_cache(tmp_path):
    started = [subprocess.Popen([sys.executable, "-c", _IMPORT_ESCPOS], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=_escpos_env(tmp_path))
               for _ in range(8)]
    results = [process.communicate(timeout=60) for process in started]
    assert [process.returncode for process in started] == [0] * 8, [err for _, err in results]
    assert list((tmp_path / "escpos").glob("*.tmp")) == []


def test_bad_printer_settings_are_one_clear_sentence():
    with pytest.raises(ValueError, match="width"):
        PrinterConfig(port="/dev/ttyS0", width=76)
    with pytest.raises(ValueError, match="encoding"):
        PrinterConfig(port="/dev/ttyS0", encoding="klingon")
    with pytest.raises(ValueError, match="baudrate"):
        PrinterConfig(port="/dev/ttyS0", baudrate=96000)
    c = PrinterConfig(port="/dev/ttyS0", baudrate=115200, parity="E", width=58, name="backup")
    assert (c.name, c.parity, c.columns) == ("backup", "E", 32)


@pytest.mark.parametrize("name", ["gb18030", "GB18030", "gbk", "ascii", "utf-8", "cp437", "klingon", "gb-18030x"])
def test_known_encoding_says_what_codecs_lookup_says(name):
    """known_encoding answers the default without loading its codec: the answer must still be Python's."""
    import codecs

    from printing.config import DEFAULT_ENCODING, known_encoding

    try:
        codecs.lookup(name)
        python_knows = True
    except LookupError:
        python_knows = False
    assert known_encoding(name) is python_knows
    assert known_encoding(DEFAULT_ENCODING) and codecs.lookup(DEFAULT_ENCODING).name == "gb18030"
