"""Memory tracing for the soak's servers (opt-in; docs/deployment.md "Soak").

``python -m bench.soak_trace serve ARGS...``
    Runs ``jibo-cloud serve ARGS...`` with :mod:`tracemalloc` on (``JIBO_SOAK_TRACE_FRAMES``
    frames, 8 by default; 0: off) and a daemon thread that writes, every
    ``JIBO_SOAK_TRACE_EVERY`` seconds (60), a tracemalloc snapshot (when on) and the count of
    live objects by type (:mod:`gc`) to the folder ``JIBO_SOAK_TRACE_DIR`` as
    ``<pid>-<seconds>.snap`` and ``.types.json``; and every 10 s a line of
    ``<pid>.stats.jsonl``: resident memory (anonymous and file-backed), threads, Python's
    allocated blocks, glibc's heap in use and free (``mallinfo2``) and the traced total.
    With frames 0 the cost is a few ms a minute.
    ``python -m bench.soak soak --trace-memory DIR`` starts its servers this way; nothing
    else does, and the server itself never imports this module.

``python -m bench.soak_trace compare DIR [--since S] [--top N]``
    For each server process in ``DIR``: the allocation sites (file:line, grouped over the
    traceback's frames in the project) that grew most between the first snapshot taken at
    ``S`` seconds or later and the last one, with the growth per minute; and the object types
    whose live count grew most; and the ``stats.jsonl`` figures, median of the first minute
    after ``S`` → of the last minute.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import statistics
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

DIR_ENV = "JIBO_SOAK_TRACE_DIR"


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]  # fmt: skip


def _mallinfo() -> dict[str, float]:
    """glibc's view of the C heap (every arena): in use, free but kept, mmapped (MB)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallinfo2.restype = _Mallinfo2
        info = libc.mallinfo2()
    except (OSError, AttributeError):  # not glibc, or older than 2.33
        return {}
    mb = 2**20
    return {"malloc_in_use_mb": (info.uordblks + info.hblkhd) / mb,
            "malloc_free_mb": info.fordblks / mb, "malloc_mmap_mb": info.hblkhd / mb}  # fmt: skip


def _stats(started: float) -> dict[str, float]:
    status = Path("/proc/self/status").read_text().split("\n")
    fields = {line.split(":")[0]: line.split()[1] for line in status if ":" in line and
              len(line.split()) > 1}  # fmt: skip
    row = {"t_s": time.monotonic() - started, "rss_mb": int(fields["VmRSS"]) / 1024,
           "rss_anon_mb": int(fields["RssAnon"]) / 1024,
           "rss_file_mb": int(fields["RssFile"]) / 1024,
           "threads": float(fields["Threads"]), "py_blocks": float(sys.getallocatedblocks()),
           **_mallinfo()}  # fmt: skip
    if tracemalloc.is_tracing():
        row["traced_mb"] = tracemalloc.get_traced_memory()[0] / 2**20
    return row


def _dump_forever(folder: Path, every: float, stats_every: float) -> None:
    started = time.monotonic()
    pid = os.getpid()
    next_dump = every
    with (folder / f"{pid}.stats.jsonl").open("a") as stats:
        while True:
            time.sleep(stats_every)
            stats.write(json.dumps(_stats(started)) + "\n")
            stats.flush()
            elapsed = time.monotonic() - started
            if elapsed < next_dump:
                continue
            next_dump += every
            stem = f"{pid}-{round(elapsed):06d}"
            if tracemalloc.is_tracing():
                tracemalloc.take_snapshot().dump(str(folder / f"{stem}.snap"))
            types = Counter(type(o).__qualname__ for o in gc.get_objects())
            (folder / f"{stem}.types.json").write_text(json.dumps(dict(types)))


def serve(argv: list[str]) -> int:
    folder = Path(os.environ[DIR_ENV])
    folder.mkdir(parents=True, exist_ok=True)
    frames = int(os.environ.get("JIBO_SOAK_TRACE_FRAMES", "8"))
    if frames > 0:
        tracemalloc.start(frames)
    every = float(os.environ.get("JIBO_SOAK_TRACE_EVERY", "60"))
    stats_every = min(every, 10.0)
    threading.Thread(target=_dump_forever, args=(folder, every, stats_every),
                     daemon=True).start()  # fmt: skip
    from jibo_cloud.cli import main

    sys.argv = ["jibo-cloud", *argv]
    return int(main() or 0)


def _site(trace: tracemalloc.StatisticDiff) -> str:
    """The innermost frame in this project, else the innermost frame, of a traceback."""
    frames = list(reversed(trace.traceback))  # the most recent call first
    ours = [f for f in frames if "/jibo_cloud/" in f.filename or "/protocol/" in f.filename]
    chosen = ours[0] if ours else frames[0]
    inner = frames[0]
    where = f"{chosen.filename.split('/work/main/')[-1]}:{chosen.lineno}"
    if inner is not chosen:
        where += f" (via {inner.filename.rsplit('/', 2)[-2:][-1]}:{inner.lineno})"
    return where


def _stats_summary(folder: Path, since: float) -> None:
    for path in sorted(folder.glob("*.stats.jsonl")):
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        rows = [r for r in rows if r["t_s"] >= since]
        if len(rows) < 12:
            continue
        first, last = rows[:6], rows[-6:]
        minutes = (last[-1]["t_s"] - first[0]["t_s"]) / 60
        print(f"pid {path.name.split('.')[0]}: t={first[0]['t_s']:.0f}→{last[-1]['t_s']:.0f} s, "
              "median of the first minute → of the last:")  # fmt: skip
        for key in first[0]:
            if key == "t_s":
                continue
            a = statistics.median(r[key] for r in first)
            b = statistics.median(r[key] for r in last)
            print(f"  {key:18} {a:12.2f} → {b:12.2f}  ({(b - a) / minutes:+.3f}/min)")


def compare(folder: Path, since: float, top: int) -> None:
    _stats_summary(folder, since)
    by_pid: dict[str, list[tuple[int, Path]]] = {}
    for types in sorted(folder.glob("*.types.json")):
        pid, seconds = types.name.split(".")[0].split("-")
        by_pid.setdefault(pid, []).append((int(seconds), types))
    for pid, dumps in by_pid.items():
        (t0, first), (t1, last) = next((d for d in dumps if d[0] >= since), dumps[0]), dumps[-1]
        minutes = (t1 - t0) / 60
        if minutes <= 0:
            print(f"pid {pid}: one dump only")
            continue
        print(f"pid {pid}: {t0} s → {t1} s ({minutes:.1f} min)")
        old_snap, new_snap = (Path(str(d).replace(".types.json", ".snap")) for d in (first, last))
        if old_snap.exists() and new_snap.exists():
            old = tracemalloc.Snapshot.load(str(old_snap))
            new = tracemalloc.Snapshot.load(str(new_snap))
            total_old = sum(s.size for s in old.statistics("filename"))
            total_new = sum(s.size for s in new.statistics("filename"))
            print(f"  traced {total_old / 2**20:.2f} → {total_new / 2**20:.2f} MB "
                  f"({(total_new - total_old) / 2**10 / minutes:+.1f} KiB/min)")  # fmt: skip
            sites: Counter[str] = Counter()
            counts: Counter[str] = Counter()
            for diff in new.compare_to(old, "traceback"):
                sites[_site(diff)] += diff.size_diff
                counts[_site(diff)] += diff.count_diff
            for where, grown in sites.most_common(top):
                print(f"  {grown / 2**10 / minutes:+9.1f} KiB/min {counts[where]:+8d} blocks  "
                      f"{where}")  # fmt: skip
        old_types = json.loads(first.read_text())
        new_types = json.loads(last.read_text())
        growth = Counter({k: v - old_types.get(k, 0) for k, v in new_types.items()})
        print("  live objects by type, growth per minute:")
        for name, grown in growth.most_common(top // 2):
            print(f"    {grown / minutes:+9.1f}/min  {name} ({new_types[name]} live)")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["serve"]:
        return serve(args)
    parser = argparse.ArgumentParser(prog="python -m bench.soak_trace")
    sub = parser.add_subparsers(dest="mode", required=True)
    cmp = sub.add_parser("compare")
    cmp.add_argument("folder", type=Path)
    cmp.add_argument("--since", type=float, default=120.0)
    cmp.add_argument("--top", type=int, default=30)
    parsed = parser.parse_args(args)
    compare(parsed.folder, parsed.since, parsed.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
