"""compose.yaml, the reference deployment on one machine (docs/deployment.md).

No container engine runs here, so these tests check what can be checked without one: the
servers' environment names settings the server reads and gives the values the other services
expect (ports, hosts), the image's command is a real ``jibo-cloud`` command, the files the
services mount exist and agree with the servers' ports; and, when Debian's ``docker-compose``
is installed, that it accepts the file (``docker-compose config`` needs no daemon).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from jibo_cloud.cli import build_parser
from jibo_cloud.config import TLS_OFF, load_config

REPO = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
SERVERS = {name: s for name, s in SERVICES.items() if "build" in s}
SECRET = "compose-test-secret-0123456789abcdef0123456789"
SOURCE = "\n".join(p.read_text() for p in (REPO / "jibo_cloud").rglob("*.py"))


def server_env(service: dict[str, Any]) -> dict[str, str]:
    env = {k: str(v) for k, v in service["environment"].items()}
    assert env["JIBO_TOKEN_SECRET"].startswith("${JIBO_TOKEN_SECRET:?")  # never a fixed one
    return {**env, "JIBO_TOKEN_SECRET": SECRET}


def test_two_servers_on_one_database_and_bucket() -> None:
    assert sorted(SERVERS) == ["server-a", "server-b"]
    envs = [server_env(s) for s in SERVERS.values()]
    assert envs[0] == envs[1]  # same database, secret, bucket: one deployment
    volumes = [s["volumes"] for s in SERVERS.values()]
    assert volumes[0] != volumes[1]  # a data folder each, as on two hosts


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_every_jibo_variable_is_one_the_server_reads(name: str) -> None:
    for variable in server_env(SERVERS[name]):
        if variable.startswith("JIBO_"):
            assert f'"{variable}"' in SOURCE, f"{variable} is read nowhere in jibo_cloud"
        else:  # boto3's own credentials (the server never reads them itself)
            assert variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), variable


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_the_environment_gives_the_ports_the_other_services_use(name: str) -> None:
    config = load_config(env=server_env(SERVERS[name]))
    assert (config.host, config.port) == ("0.0.0.0", 8080)
    assert (config.metrics_host, config.metrics_port) == ("0.0.0.0", 9100)
    assert config.tls_port == TLS_OFF
    assert config.trust_forwarded
    assert config.database_url.startswith("postgresql://")
    assert "@postgres:5432/" in config.database_url
    assert config.blob_url.startswith("s3://")
    assert config.s3_endpoint_url == "http://minio:9000"
    nginx = (REPO / "docs/deployment/nginx.conf").read_text()
    prometheus = yaml.safe_load((REPO / "docs/deployment/prometheus.yml").read_text())
    assert f"server {name}:{config.port} " in nginx
    targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    assert f"{name}:{config.metrics_port}" in targets
    probe = " ".join(SERVERS[name]["healthcheck"]["test"])
    assert f"127.0.0.1:{config.metrics_port}/readyz" in probe


def test_the_image_runs_real_commands() -> None:
    build = SERVERS["server-a"]["build"]
    dockerfile = (REPO / build["context"] / build["dockerfile"]).read_text()
    entry = re.search(r"^ENTRYPOINT \[\"([^\"]+)\"\]$", dockerfile, re.M)
    command = re.search(r"^CMD \[(.*)\]$", dockerfile, re.M)
    assert entry is not None
    assert command is not None
    assert entry[1] == "jibo-cloud"  # the script of pyproject.toml's [project.scripts]
    assert 'jibo-cloud = "jibo_cloud.cli:main"' in (REPO / "pyproject.toml").read_text()
    argv = [part.strip(' "') for part in command[1].split(",")]
    assert build_parser(argv).parse_args(argv).command == "serve"
    for copied in re.findall(r"^COPY (\S+)", dockerfile, re.M):
        assert (REPO / copied).exists(), copied
    # The compose file's own advice: `docker compose run --rm server-a robot add ...`.
    assert "run --rm server-a robot add" in (REPO / "compose.yaml").read_text()
    with pytest.raises(SystemExit) as shown:
        build_parser(["robot", "add", "--help"]).parse_args(["robot", "add", "--help"])
    assert shown.value.code == 0


def test_mounted_files_exist() -> None:
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).is_file(), f"{name}: {source}"


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="docker-compose (Debian's 1.29) not installed: file not validated",
)
def test_docker_compose_accepts_the_file() -> None:
    env = {"PATH": "/usr/bin:/bin", "JIBO_TOKEN_SECRET": SECRET}
    done = subprocess.run(
        ["docker-compose", "-f", "compose.yaml", "config", "--quiet"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    refused = subprocess.run(
        ["docker-compose", "-f", "compose.yaml", "config", "--quiet"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "JIBO_TOKEN_SECRET" in refused.stderr
