"""``jibo-cloud robot setup-script``: the script is POSIX sh (``sh -n``, shellcheck), and run
against a fake robot root it changes exactly the files it says, inside marked blocks, twice
in a row without a difference, and ``--revert`` puts every byte (and symlink) back.

The fake root copies the shape docs/robots.md describes (peers' findings, not a real robot):
``/etc/hosts`` a symlink to ``/var/etc/hosts``, a CA bundle without a final newline, the
system manager's init script, ``/var/jibo/credentials.json``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from jibo_cloud.cli import main
from jibo_cloud.setup_script import (
    BEGIN_MARK,
    END_MARK,
    SetupOptions,
    SetupScriptError,
    ca_certificate,
    render,
    server_address,
    subject_hash,
)
from tests.support import env

SERVER = "192.0.2.10"
HOSTS = b"127.0.0.1\tlocalhost\n127.0.1.1\tTest-Robot-Name\n"
BUNDLE = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"  # no final newline
INIT = b"#!/bin/sh\nset -e\nPROCESS=/usr/local/bin/jibo-system-manager\n"
CREDENTIALS = b'{"accessKeyId":"AKFAKE","secretAccessKey":"fake","region":"api"}'


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        env.missing(f"{name} (apt-get install {name})")
    assert path is not None
    return path


@pytest.fixture(scope="module")
def ca_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jibo-cloud test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def make_root(root: Path, *, credentials: bytes = CREDENTIALS) -> None:
    (root / "etc/ssl/certs").mkdir(parents=True)
    (root / "etc/init.d").mkdir(parents=True)
    (root / "var/etc").mkdir(parents=True)
    (root / "var/jibo").mkdir(parents=True)
    (root / "var/etc/hosts").write_bytes(HOSTS)
    (root / "etc/hosts").symlink_to("../var/etc/hosts")
    (root / "etc/ssl/certs/ca-certificates.crt").write_bytes(BUNDLE)
    init = root / "etc/init.d/S78jibo-system-manager"
    init.write_bytes(INIT)
    init.chmod(0o755)
    (root / "var/jibo/credentials.json").write_bytes(credentials)
    (root / "var/jibo/credentials.json").chmod(0o600)


def snapshot(root: Path) -> dict[str, tuple[object, ...]]:
    """Every path under ``root``: symlink target, or file bytes and mode, or folder mode."""
    seen: dict[str, tuple[object, ...]] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            seen[rel] = ("link", os.readlink(path))
        elif stat.S_ISDIR(info.st_mode):
            seen[rel] = ("dir", stat.S_IMODE(info.st_mode))
        else:
            seen[rel] = ("file", path.read_bytes(), stat.S_IMODE(info.st_mode))
    return seen


def script_file(tmp_path: Path, ca_pem: str, **kw: object) -> Path:
    options = SetupOptions(server=SERVER, ca_pem=ca_certificate(ca_pem), **kw)  # type: ignore[arg-type]
    path = tmp_path / "jibo-cloud-setup.sh"
    path.write_text(render(options))
    return path


def run(shell: list[str], script: Path, root: Path, *args: str) -> str:
    done = subprocess.run(
        [*shell, str(script), *args], env={**os.environ, "JIBO_ROOT": str(root)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


@pytest.fixture(params=["sh", "busybox"])
def shell(request: pytest.FixtureRequest) -> list[str]:
    if request.param == "busybox":
        return [tool("busybox"), "sh"]
    return [tool("sh")]


def test_bad_inputs_are_refused_with_a_reason(ca_pem: str) -> None:
    with pytest.raises(SetupScriptError, match="IP address"):
        server_address("jibo.example.com")
    assert server_address(" 2001:db8::0001 ") == "2001:db8::1"
    with pytest.raises(SetupScriptError, match="no PEM certificate"):
        ca_certificate("hello")
    with pytest.raises(SetupScriptError, match="region"):
        SetupOptions(server=SERVER, ca_pem=ca_certificate(ca_pem), regions=("a b; rm -rf /",))


def test_script_is_posix_sh_and_shellcheck_clean(tmp_path: Path, ca_pem: str) -> None:
    script = script_file(tmp_path, ca_pem)
    subprocess.run([tool("sh"), "-n", str(script)], check=True)
    subprocess.run([tool("busybox"), "sh", "-n", str(script)], check=True)
    done = subprocess.run(
        [tool("shellcheck"), "-s", "sh", str(script)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout


def test_dry_run_prints_the_changes_and_changes_nothing(
    tmp_path: Path, ca_pem: str, shell: list[str]
) -> None:
    root = tmp_path / "root"
    make_root(root)
    before = snapshot(root)
    out = run(shell, script_file(tmp_path, ca_pem), root, "--dry-run")
    assert snapshot(root) == before
    assert "would change /etc/hosts" in out
    assert f"{SERVER}\tneo-hub.jibo.com" in out
    assert "would change /etc/ssl/certs/ca-certificates.crt" in out
    assert "would change /etc/init.d/S78jibo-system-manager" in out
    assert "nothing was changed" in out


def test_apply_twice_then_revert_restores_every_byte(
    tmp_path: Path, ca_pem: str, shell: list[str]
) -> None:
    root = tmp_path / "root"
    make_root(root)
    before = snapshot(root)
    script = script_file(tmp_path, ca_pem)
    run(shell, script, root)
    after = snapshot(root)

    # Exactly these paths changed or appeared (the hosts symlink's target, not the link).
    changed = {p for p in after if before.get(p) != after[p]}
    ca_hash = subject_hash(ca_certificate(ca_pem))
    expected = {
        "var/etc/hosts", "etc/ssl/certs/ca-certificates.crt", "etc/init.d/S78jibo-system-manager",
        "etc/ssl/certs/jibo-cloud-ca.pem", "opt", "opt/jibo-cloud", "opt/jibo-cloud/backup",
    }  # fmt: skip
    if ca_hash:
        expected.add(f"etc/ssl/certs/{ca_hash}.0")
    assert {p for p in changed if not p.startswith("opt/jibo-cloud/backup/")} == expected
    assert set(before) - set(after) == set()
    assert after["etc/hosts"] == ("link", "../var/etc/hosts")

    hosts = (root / "var/etc/hosts").read_bytes()
    block = (
        f"{BEGIN_MARK}\n# the robot's cloud names -> this jibo-cloud server (undo: --revert)\n"
        f"{SERVER}\tapi.jibo.com\n{SERVER}\tapi-socket.jibo.com\n{SERVER}\tneo-hub.jibo.com\n"
        f"{END_MARK}\n"
    ).encode()
    assert hosts == block + HOSTS  # first, so the resolver takes our lines
    pem = ca_certificate(ca_pem).encode()
    bundle = (root / "etc/ssl/certs/ca-certificates.crt").read_bytes()
    assert bundle == BUNDLE + b"\n" + f"{BEGIN_MARK}\n".encode() + pem + f"{END_MARK}\n".encode()
    assert (root / "etc/ssl/certs/jibo-cloud-ca.pem").read_bytes() == pem
    if ca_hash:
        assert after[f"etc/ssl/certs/{ca_hash}.0"] == ("link", "jibo-cloud-ca.pem")
    init = (root / "etc/init.d/S78jibo-system-manager").read_bytes()
    assert init == (
        b"#!/bin/sh\n" + f"{BEGIN_MARK}\n".encode()
        + b"export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/jibo-cloud-ca.pem\n"
        + f"{END_MARK}\n".encode() + b"set -e\nPROCESS=/usr/local/bin/jibo-system-manager\n"
    )  # fmt: skip
    assert after["etc/init.d/S78jibo-system-manager"][2] == 0o755  # mode kept
    # The credentials are kept (0600, in a 0700 folder) and never changed.
    assert after["var/jibo/credentials.json"] == before["var/jibo/credentials.json"]
    kept = root / "opt/jibo-cloud/backup/credentials.json"
    assert kept.read_bytes() == CREDENTIALS
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert after["opt/jibo-cloud/backup"] == ("dir", 0o700)
    # No backup in /etc/init.d: busybox init runs every S* file there.
    assert sorted(p.name for p in (root / "etc/init.d").iterdir()) == ["S78jibo-system-manager"]

    run(shell, script, root)  # idempotent: a second run changes nothing
    assert snapshot(root) == after

    out = run(shell, script, root, "--revert")
    assert "reverted" in out
    assert snapshot(root) == before
    out = run(shell, script, root, "--revert")  # nothing left to revert: harmless
    assert "nothing to revert" in out
    assert snapshot(root) == before


def test_a_new_server_address_replaces_the_block(tmp_path: Path, ca_pem: str) -> None:
    root = tmp_path / "root"
    make_root(root)
    before = snapshot(root)
    run([tool("sh")], script_file(tmp_path, ca_pem), root)
    other = SetupOptions(server="192.0.2.99", ca_pem=ca_certificate(ca_pem))
    (tmp_path / "other.sh").write_text(render(other))
    run([tool("sh")], tmp_path / "other.sh", root)
    hosts = (root / "var/etc/hosts").read_text()
    assert hosts.count(BEGIN_MARK) == 1
    assert "192.0.2.99\tapi.jibo.com" in hosts
    assert SERVER not in hosts
    run([tool("sh")], tmp_path / "other.sh", root, "--revert")
    assert snapshot(root) == before  # the first copy is what comes back


def test_the_credentials_region_is_mapped_and_a_bare_root_works(
    tmp_path: Path, ca_pem: str
) -> None:
    root = tmp_path / "root"
    (root / "var/jibo").mkdir(parents=True)
    (root / "var/jibo/credentials.json").write_bytes(b'{"region": "eu-test", "accessKeyId": "x"}')
    before = snapshot(root)
    out = run([tool("sh")], script_file(tmp_path, ca_pem), root)
    assert "region 'eu-test'" in out
    assert "no /etc/init.d/S78jibo-system-manager here" in out
    hosts = (root / "etc/hosts").read_text()
    assert f"{SERVER}\teu-test.jibo.com\n{SERVER}\teu-test-socket.jibo.com\n" in hosts
    assert stat.S_IMODE((root / "etc/hosts").stat().st_mode) == 0o644  # readable by all
    run([tool("sh")], script_file(tmp_path, ca_pem), root, "--revert")
    assert snapshot(root) == before  # created files and folders are gone again


def test_cli_prints_the_script_and_needs_a_ca(
    tmp_path: Path, ca_pem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text(ca_pem)
    argv = ["robot", "setup-script", "--server", SERVER, "--ca-file", str(ca), "--dry-run"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("#!/bin/sh\n")
    assert "MODE='dry-run'" in text
    assert ca_certificate(ca_pem).strip() in text
    data = tmp_path / "data"
    assert main(["robot", "setup-script", "--server", SERVER, "--data-dir", str(data)]) == 1
    assert "certs init" in capsys.readouterr().err
    assert main(["robot", "setup-script", "--server", "robot.lan", "--ca-file", str(ca)]) == 1
    assert "IP address" in capsys.readouterr().err


def test_node_tls_checks_off_only_when_asked_loudly_and_reverted(
    tmp_path: Path, ca_pem: str, shell: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "root"
    make_root(root)
    before = snapshot(root)
    init = root / "etc/init.d/S78jibo-system-manager"
    run(shell, script_file(tmp_path, ca_pem), root)
    assert b"NODE_TLS_REJECT_UNAUTHORIZED" not in init.read_bytes()  # never by default
    out = run(shell, script_file(tmp_path, ca_pem, node_tls_checks_off=True), root)
    assert "WARNING: certificate checks are OFF" in out
    text = init.read_text()
    assert text.count(BEGIN_MARK) == 1
    block = text[text.index(BEGIN_MARK) : text.index(END_MARK)]
    assert "export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/jibo-cloud-ca.pem\n" in block
    assert "export NODE_TLS_REJECT_UNAUTHORIZED=0\n" in block
    run(shell, script_file(tmp_path, ca_pem), root, "--revert")
    assert snapshot(root) == before

    ca = tmp_path / "ca.pem"
    ca.write_text(ca_pem)
    argv = ["robot", "setup-script", "--server", SERVER, "--ca-file", str(ca)]
    assert main([*argv, "--node-tls-checks-off"]) == 0
    printed = capsys.readouterr()
    assert "NODE_TLS_OFF='yes'" in printed.out
    assert "WARNING" in printed.err
    assert main(argv) == 0
    assert "NODE_TLS_OFF=''" in capsys.readouterr().out
