"""Secret files (tui/services/payments/secrets.py) and the merchant's certificate of the WeChat client:
read only when private to us, refused in one sentence naming the file, never its content."""
from __future__ import annotations

import os
import ssl
import subprocess

import pytest

from tui.services.payments.provider import PAID, REFUNDED, UNKNOWN
from tui.services.payments.secrets import (
    EMPTY,
    MISSING,
    NOT_OURS,
    OPEN_TO_OTHERS,
    SecretFileError,
    check_private,
    read_secret,
    read_secret_bytes,
    write_secret,
)
from tui.services.payments.sim_wechat import DEMO_APPID, DEMO_MCH_ID
from tui.services.payments.simulator import Simulator
from tui.services.payments.wechat import BadSetting, WeChatPay

SECRET = "0123456789abcdef0123456789abcdef"


def test_a_private_file_is_read_without_its_line_end(tmp_path):
    path = tmp_path / "key"
    write_secret(path, (SECRET + "\n").encode())
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert read_secret(path) == SECRET and read_secret_bytes(path) == (SECRET + "\n").encode()


def test_writing_a_secret_over_an_open_file_makes_it_private(tmp_path):
    path = tmp_path / "key"
    path.write_text("old")
    os.chmod(path, 0o644)
    write_secret(path, SECRET.encode())
    assert oct(path.stat().st_mode & 0o777) == "0o600" and read_secret(path) == SECRET


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_a_file_others_may_read_is_refused_naming_it_not_its_content(tmp_path, mode):
    path = tmp_path / "key"
    write_secret(path, SECRET.encode())
    os.chmod(path, mode)
    with pytest.raises(SecretFileError) as caught:
        read_secret(path)
    assert caught.value.problem == OPEN_TO_OTHERS and caught.value.path == path
    assert str(path) in str(caught.value) and SECRET not in str(caught.value)


def test_a_missing_or_empty_file_is_refused(tmp_path):
    with pytest.raises(SecretFileError) as missing:
        read_secret(tmp_path / "nowhere")
    write_secret(tmp_path / "empty", b"\n")
    with pytest.raises(SecretFileError) as empty:
        read_secret(tmp_path / "empty")
    assert (missing.value.problem, empty.value.problem) == (MISSING, EMPTY)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_file_of_another_user_is_refused(tmp_path):
    path = tmp_path / "key"
    write_secret(path, SECRET.encode())
    os.chown(path, 12345, 12345)
    with pytest.raises(SecretFileError) as caught:
        check_private(path)
    assert caught.value.problem == NOT_OURS


@pytest.fixture
def certificate(tmp_path):
    """A self-signed merchant certificate and its key (0600), as WeChat Pay's apiclient_cert/key.pem."""
    cert, key = tmp_path / "apiclient_cert.pem", tmp_path / "apiclient_key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    f"/CN={DEMO_MCH_ID}", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


def test_https_takes_the_merchants_certificate_when_its_key_is_private(certificate):
    cert, key = certificate
    client = WeChatPay("https://api.mch.weixin.qq.com", DEMO_APPID, DEMO_MCH_ID, SECRET, cert_file=cert,
                       cert_key_file=key)
    assert client.base_url == "https://api.mch.weixin.qq.com"
    os.chmod(key, 0o644)
    with pytest.raises(SecretFileError, match="chmod 600"):
        WeChatPay("https://api.mch.weixin.qq.com", DEMO_APPID, DEMO_MCH_ID, SECRET, cert_file=cert, cert_key_file=key)


def test_a_certificate_that_does_not_load_is_one_sentence_without_the_key(certificate, tmp_path):
    cert, key = certificate
    broken = tmp_path / "broken.pem"
    broken.write_text("not a certificate")
    with pytest.raises(BadSetting) as caught:
        WeChatPay("https://api.mch.weixin.qq.com", DEMO_APPID, DEMO_MCH_ID, SECRET, cert_file=broken,
                  cert_key_file=key)
    assert caught.value.setting == "cert_file" and str(broken) in str(caught.value)
    assert "PRIVATE KEY" not in str(caught.value) and SECRET not in str(caught.value)


def make_certificate(folder, name: str, subject_alt: str = ""):
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    extra = ["-addext", f"subjectAltName={subject_alt}"] if subject_alt else []
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
                    *extra, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


def test_over_https_the_merchants_certificate_is_shown_and_the_servers_checked(tmp_path):
    server_cert, server_key = make_certificate(tmp_path, "server", "IP:127.0.0.1")
    merchant_cert, merchant_key = make_certificate(tmp_path, "merchant")
    stranger_cert, stranger_key = make_certificate(tmp_path, "stranger")
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(merchant_cert))
    tls.load_cert_chain(str(server_cert), str(server_key))
    tls.verify_mode = ssl.CERT_REQUIRED  # as secapi: no merchant certificate, no answer
    with Simulator(wechat_key=SECRET, tls=tls) as sim:
        merchant = WeChatPay(sim.url, DEMO_APPID, DEMO_MCH_ID, SECRET, cert_file=merchant_cert,
                             cert_key_file=merchant_key, ca_file=server_cert, timeout=5)
        assert merchant.pay("T1-TLS", "134567890123450000", 300, "s").state == PAID
        assert merchant.refund("T1-TLS", "R-TLS", 300, 300).state == REFUNDED
        stranger = WeChatPay(sim.url, DEMO_APPID, DEMO_MCH_ID, SECRET, cert_file=stranger_cert,
                             cert_key_file=stranger_key, ca_file=server_cert, timeout=5)
        assert stranger.cancel("T1-TLS").state == UNKNOWN
        trusting_no_one = WeChatPay(sim.url, DEMO_APPID, DEMO_MCH_ID, SECRET, cert_file=merchant_cert,
                                    cert_key_file=merchant_key, timeout=5)  # the system's CAs: not our server
        assert trusting_no_one.query("T1-TLS").code == "NO_ANSWER"
        assert [r.path for r in sim.requests] == ["/pay/micropay", "/secapi/pay/refund", "/pay/refundquery"]
