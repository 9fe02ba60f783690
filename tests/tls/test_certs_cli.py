"""``jibo-cloud certs init|show|renew`` through the real command, and
``serve --workers 2`` serving TLS from the supervisor's shared socket."""

from __future__ import annotations

import re
import ssl
import stat
from pathlib import Path

import pytest
import trio

from jibo_cloud.cli import main
from jibo_cloud.config import load_config
from jibo_cloud.tls import certs
from tests.support.server import serve_subprocess
from tests.tls.conftest import certs_init


def test_init_makes_a_private_ca_and_a_certificate_for_every_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    assert main(["host", "add", "notify.example.org", "--service", "socket",
                 "--data-dir", str(data)]) == 0  # fmt: skip
    certs_init(data, "--name", "cloud.example.org", "--ip", "192.0.2.7", "--region", "eu")
    config = load_config(data_dir=data, env={})
    assert stat.S_IMODE(certs.tls_dir(config).stat().st_mode) == 0o700
    assert stat.S_IMODE(certs.ca_key_path(config).stat().st_mode) == 0o600
    assert stat.S_IMODE(certs.server_key_path(config).stat().st_mode) == 0o600
    info = certs.server_certificate_info(config)
    assert info is not None
    covered = ["api.jibo.com", "api-socket.jibo.com", "neo-hub.jibo.com", "eu.jibo.com"]
    covered += ["eu-socket.jibo.com", "notify.example.org", "cloud.example.org", "192.0.2.7"]
    for name in covered:
        assert info.covers(name), name
    assert not info.covers("a.b.jibo.com")  # a wildcard covers one label only
    ca = certs.ca_certificate_info(config)
    assert ca is not None
    assert info.issuer == ca.subject
    capsys.readouterr()
    assert main(["certs", "show", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert "notify.example.org" in out
    assert "covers every name robots use here" in out
    pairs = ":".join(info.fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()
    assert pairs in out


def test_renew_keeps_the_ca_and_covers_a_new_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    certs_init(data, "--name", "cloud.example.org")
    config = load_config(data_dir=data, env={})
    ca_before, before = certs.ca_certificate_info(config), certs.server_certificate_info(config)
    assert before is not None
    assert main(["host", "add", "hub.example.org", "--service", "hub",
                 "--data-dir", str(data)]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["certs", "show", "--data-dir", str(data)]) == 0
    assert "NOT covered" in capsys.readouterr().out  # the new mapping, until renewed
    assert main(["certs", "renew", "--data-dir", str(data)]) == 0
    after = certs.server_certificate_info(config)
    assert after is not None
    assert certs.ca_certificate_info(config) == ca_before
    assert after.fingerprint != before.fingerprint
    assert after.covers("hub.example.org")
    assert after.covers("cloud.example.org")  # the earlier names are kept


def test_show_without_certificates_says_what_to_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["certs", "show", "--data-dir", str(tmp_path / "data")]) == 1
    assert "jibo-cloud certs init" in capsys.readouterr().err


async def test_two_workers_serve_tls(tmp_path: Path) -> None:
    data = tmp_path / "data"
    ca = await trio.to_thread.run_sync(certs_init, data)
    args = ["--data-dir", str(data), "--workers", "2", "--tls-port", "0"]
    with serve_subprocess(args) as (proc, _port):
        assert proc.stdout is not None
        tls_line = ""
        for line in proc.stdout:
            if "TLS (HTTPS, WSS)" in line:
                tls_line = line
                break
        match = re.search(r"https://127\.0\.0\.1:(\d+)", tls_line)
        assert match, tls_line
        ctx = ssl.create_default_context(cafile=str(ca))
        for _ in range(6):  # fresh connections: both workers take some
            tcp = await trio.open_tcp_stream("127.0.0.1", int(match[1]))
            stream = trio.SSLStream(tcp, ctx, server_hostname="api.jibo.com", https_compatible=True)
            with trio.fail_after(10):
                await stream.send_all(
                    b"GET / HTTP/1.1\r\nHost: api.jibo.com\r\nConnection: close\r\n\r\n"
                )
                answer = b""
                while chunk := await stream.receive_some(65536):
                    answer += chunk
            assert answer.startswith(b"HTTP/1.1 204")
            await stream.aclose()
        proc.terminate()
        assert proc.wait(timeout=30) == 0
