"""``protocol`` is pure: importing it loads no trio, quart or hypercorn (STYLE.md).

Like trio's export test, it runs in a fresh interpreter so nothing the test session already
imported can hide a dependency.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import protocol

IO_MODULES = ("trio", "quart", "quart_trio", "hypercorn", "trio_websocket", "httpx", "psycopg")


def test_import_protocol_loads_no_io_module() -> None:
    """``import protocol`` and every ``protocol.*`` module, in a fresh interpreter."""
    code = (
        "import importlib, json, pkgutil, sys, protocol\n"
        "for m in pkgutil.walk_packages(protocol.__path__, 'protocol.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    # protocol.strategies imports hypothesis, which loads the plugins installed packages
    # register; trio registers one. That is the environment's doing, not protocol's, so the
    # plugins are off here: what is left is what protocol itself imports.
    env = {**os.environ, "HYPOTHESIS_NO_PLUGINS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env
    ).stdout
    loaded = json.loads(out)
    bad = [m for m in loaded if m.split(".")[0] in IO_MODULES]
    assert bad == []


def test_every_public_name_is_exported_once() -> None:
    assert len(protocol.__all__) == len(set(protocol.__all__))
    for name in protocol.__all__:
        assert hasattr(protocol, name), name
