"""The whole path a robot takes, over TLS with the private CA.

The real server listens on a plain and a TLS port (both ephemeral); the simulated robot trusts
only the CA ``jibo-cloud certs init`` made (``--ca-file``) and presents the robot's host names
through SNI (``--robot-hosts``), so the certificate is checked against ``api.jibo.com``,
``api-socket.jibo.com`` and ``neo-hub.jibo.com`` exactly as the robot checks it.
"""

from __future__ import annotations

import ssl
import sys
from pathlib import Path

import pytest
import trio

from jibo_cloud.tools import sim_hub
from jibo_cloud.tools.sim_boot import run_boot
from jibo_cloud.tools.target import Target, ToolError
from tests.support.env import missing
from tests.tls.conftest import TLSServer, certs_init
from tests.tools.conftest import ROBOT

REPO = Path(__file__).resolve().parents[2]
#: What the robot's Node 6 / OpenSSL 1.0.2 client offers for an RSA server.
OLD_SUITES = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"


def robot_target(tls: TLSServer, ca_file: Path | None = None) -> Target:
    return Target.parse(tls.https_url, robot_hosts=True, ca_file=ca_file or tls.ca_file)


async def test_boot_notification_socket_and_a_turn_over_tls(tls_server: TLSServer) -> None:
    target = robot_target(tls_server)
    with trio.fail_after(30):
        boot = await run_boot(target, ROBOT)
    assert boot.ok, [s.describe() for s in boot.steps if not s.ok]
    names = [s.name for s in boot.steps]
    assert any("notification" in n.lower() for n in names), names  # the socket step ran
    assert boot.hub_token is not None
    with trio.fail_after(30):
        turn = await sim_hub.run_transaction(
            target,
            "/v1/listen",
            sim_hub.client_asr_script("tell me a joke", ROBOT),
            token=boot.hub_token,
        )
    assert turn.ok, turn.error
    assert [f.type for f in turn.frames if f.sender == "hub" and f.kind == "text"][:2] == [
        "SOS",
        "EOS",
    ]
    assert turn.final is not None


async def test_a_spoken_turn_over_tls(tls_server: TLSServer) -> None:
    from jibo_cloud.tools.speak import synthesize_pages

    try:
        pages = synthesize_pages("what time is it")
    except ToolError as exc:
        missing(f"speech synthesis for the spoken turn: {exc}")
    target = robot_target(tls_server)
    with trio.fail_after(30):
        boot = await run_boot(target, ROBOT)
        turn = await sim_hub.run_transaction(
            target,
            "/v1/listen",
            sim_hub.audio_script(pages, ROBOT, pace=False),
            token=boot.hub_token,
        )
    assert turn.ok, turn.error
    assert turn.final is not None
    # The audio arrived and was heard: the hub answered with end of speech, then a final.
    assert "EOS" in [f.type for f in turn.frames if f.sender == "hub" and f.kind == "text"]


async def test_a_certificate_from_another_ca_is_refused_as_the_robot_would(
    tls_server: TLSServer, tmp_path: Path
) -> None:
    other_ca = await trio.to_thread.run_sync(certs_init, tmp_path / "other")
    target = robot_target(tls_server, ca_file=other_ca)
    with trio.fail_after(30), pytest.raises(ToolError) as info:
        await run_boot(target, ROBOT)
    assert "TLS certificate refused for api.jibo.com" in str(info.value)
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
    with pytest.raises(ToolError, match=r"TLS certificate refused for neo-hub\.jibo\.com"):
        await sim_hub.run_transaction(
            target, "/v1/listen", sim_hub.client_asr_script("hi", ROBOT), token="x"
        )


async def test_a_name_the_certificate_does_not_cover_is_refused(tls_server: TLSServer) -> None:
    ctx = ssl.create_default_context(cafile=str(tls_server.ca_file))
    tcp = await trio.open_tcp_stream("127.0.0.1", tls_server.tls_port)
    stream = trio.SSLStream(tcp, ctx, server_hostname="api.example.org")
    with pytest.raises(trio.BrokenResourceError) as info:
        await stream.do_handshake()
    assert isinstance(info.value.__cause__, ssl.SSLCertVerificationError)
    await trio.aclose_forcefully(stream)


async def _get(ctx: ssl.SSLContext, port: int, host: str) -> tuple[bytes, tuple[object, ...]]:
    """GET / over TLS; the answer and what was negotiated (version, suite, ALPN)."""
    tcp = await trio.open_tcp_stream("127.0.0.1", port)
    # hypercorn closes without close_notify, as HTTPS servers may (trio's https_compatible).
    stream = trio.SSLStream(tcp, ctx, server_hostname=host, https_compatible=True)
    await stream.do_handshake()
    cipher = stream.cipher()
    negotiated = (stream.version(), cipher[0] if cipher else None, stream.selected_alpn_protocol())
    await stream.send_all(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    answer = b""
    while chunk := await stream.receive_some(65536):
        answer += chunk
    await stream.aclose()
    return answer, negotiated


async def test_a_tls12_client_with_the_robots_old_suites(tls_server: TLSServer) -> None:
    ctx = ssl.create_default_context(cafile=str(tls_server.ca_file))
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(OLD_SUITES)
    ctx.set_alpn_protocols(["h2", "http/1.1"])  # offered h2 too: the server picks HTTP/1.1
    with trio.fail_after(10):
        answer, (version, suite, alpn) = await _get(ctx, tls_server.tls_port, "api.jibo.com")
    assert answer.startswith(b"HTTP/1.1 204"), answer[:80]
    assert version == "TLSv1.2"
    assert suite in OLD_SUITES.split(":")
    assert alpn == "http/1.1"


@pytest.mark.parametrize(
    ("version", "ciphers"),
    [
        (ssl.TLSVersion.TLSv1_2, "AES128-SHA:AES256-SHA"),  # static RSA, CBC
        (ssl.TLSVersion.TLSv1_2, "ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA"),  # CBC
        (ssl.TLSVersion.TLSv1_2, "AES128-GCM-SHA256:AES256-GCM-SHA384"),  # no forward secrecy
    ],
)
async def test_weak_suites_are_refused(
    tls_server: TLSServer, version: ssl.TLSVersion, ciphers: str
) -> None:
    ctx = ssl.create_default_context(cafile=str(tls_server.ca_file))
    ctx.minimum_version = ctx.maximum_version = version
    ctx.set_ciphers(f"{ciphers}:@SECLEVEL=0")
    tcp = await trio.open_tcp_stream("127.0.0.1", tls_server.tls_port)
    stream = trio.SSLStream(tcp, ctx, server_hostname="api.jibo.com")
    with trio.fail_after(10), pytest.raises(trio.BrokenResourceError):
        await stream.do_handshake()
    await trio.aclose_forcefully(stream)


@pytest.mark.parametrize("flag", ["-tls1", "-tls1_1"])
async def test_openssl_refuses_tls10_and_tls11(tls_server: TLSServer, flag: str) -> None:
    openssl = await _openssl()
    result = await trio.run_process(
        [openssl, "s_client", "-connect", f"127.0.0.1:{tls_server.tls_port}", flag,
         "-servername", "api.jibo.com", "-cipher", "ALL:@SECLEVEL=0"],
        stdin=b"", capture_stdout=True, capture_stderr=True, check=False,
    )  # fmt: skip
    out = result.stdout.decode() + result.stderr.decode()
    assert result.returncode != 0, out
    assert "Cipher is (NONE)" in out or "no protocols available" in out, out


async def test_openssl_tls12_with_the_robots_suite(tls_server: TLSServer) -> None:
    openssl = await _openssl()
    result = await trio.run_process(
        [openssl, "s_client", "-connect", f"127.0.0.1:{tls_server.tls_port}", "-tls1_2",
         "-cipher", "ECDHE-RSA-AES128-GCM-SHA256", "-servername", "neo-hub.jibo.com",
         "-CAfile", str(tls_server.ca_file), "-verify_hostname", "neo-hub.jibo.com",
         "-verify_return_error"],
        stdin=b"", capture_stdout=True, capture_stderr=True, check=False,
    )  # fmt: skip
    out = result.stdout.decode()
    assert "Cipher is ECDHE-RSA-AES128-GCM-SHA256" in out, out
    assert "Verify return code: 0 (ok)" in out, out


async def _openssl() -> str:
    import shutil

    path = shutil.which("openssl")
    if path is None:
        missing("the openssl command (apt-get install openssl)")
    assert path is not None
    return path


async def test_sim_boot_cli_over_tls(tls_server: TLSServer) -> None:
    """The issue's "done when": ``jibo-cloud sim boot --ca-file … --robot-hosts`` over TLS."""
    result = await trio.run_process(
        [sys.executable, "-m", "jibo_cloud", "sim", "boot", "--url", tls_server.https_url,
         "--ca-file", str(tls_server.ca_file), "--robot-hosts", "--robot", ROBOT.name,
         "--serial", ROBOT.serial, "--robot-id", str(ROBOT.robot_id),
         "--access-key-id", str(ROBOT.access_key_id),
         "--secret-access-key", str(ROBOT.secret_access_key)],
        cwd=REPO, capture_stdout=True, capture_stderr=True, check=False,
    )  # fmt: skip
    out = result.stdout.decode() + result.stderr.decode()
    assert result.returncode == 0, out
    assert tls_server.https_url in out
