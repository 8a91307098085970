"""Benchmarks under a performance profile of the local org: ``flat`` 50 ms or ``realistic``.

A figure measured against an org answering every call in 50 ms and finishing every Bulk job
before the first poll flatters Bulk and hides the cost of records written; the realistic
profile (``connectors/emulator/profile.py``) is how long a production org takes. Every bench
that talks to the org takes ``--profile`` (and ``--time-scale``, ``--latency-ms`` for flat)
through ``add_profile_arguments``, starts its org with ``BenchProfile.emulator_kwargs`` (in
process), ``OrgProcess`` (a child process, so peak memory stays the client's) or
``cli_args`` (``mapsync emulator``), reports the Bulk jobs and polls the org counted, and
ends with ``summary``: one ``SUMMARY {json}`` line that ``run.py`` gathers into a table with
a profile column.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

PROFILES = ("flat", "realistic")
FLAT_LATENCY_MS = 50
SUMMARY = "SUMMARY "
TARGET = "TARGET "


@dataclass(frozen=True)
class BenchProfile:
    """The profile a benchmark runs its org with."""

    name: str = "flat"
    latency_ms: int = FLAT_LATENCY_MS  # flat only
    time_scale: float = 1.0  # realistic only

    @property
    def label(self) -> str:
        if self.name == "flat":
            return f"flat {self.latency_ms} ms"
        return self.name if self.time_scale == 1 else f"{self.name} x{self.time_scale:g}"

    def emulator_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``Emulator(...)``."""
        if self.name == "flat":
            return {"latency_ms": self.latency_ms}
        from connectors.emulator.profile import profile_named

        return {"profile": profile_named(self.name, self.time_scale)}

    def cli_args(self) -> list[str]:
        """Arguments for ``mapsync emulator``."""
        if self.name == "flat":
            return ["--latency-ms", str(self.latency_ms)]
        return ["--profile", self.name, "--time-scale", str(self.time_scale)]


def add_profile_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", choices=PROFILES, default="flat",
                        help="the local org's performance profile (default flat)")
    parser.add_argument("--latency-ms", type=int, default=FLAT_LATENCY_MS,
                        help=f"flat profile: latency per call (default {FLAT_LATENCY_MS})")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="realistic profile: multiply every modelled duration")


def profile_of(args: argparse.Namespace) -> BenchProfile:
    return BenchProfile(args.profile, args.latency_ms, args.time_scale)


def polls_per_job(before: dict[str, int], after: dict[str, int]) -> str:
    """``"2 jobs, 7 polls (3.5/job), 3 batches"`` from two ``bulk_tally`` snapshots: the
    batches are those taken of the org's 15,000 a day."""
    jobs, polls = after["jobs"] - before["jobs"], after["polls"] - before["polls"]
    if not jobs:
        return "no Bulk job"
    batches = after.get("batches", 0) - before.get("batches", 0)
    return (f"{jobs} Bulk job{'s' if jobs > 1 else ''}, {polls} poll{'s' if polls != 1 else ''}"
            f" ({polls / jobs:.1f}/job), {batches:,} batch{'es' if batches != 1 else ''}")


def summary(bench: str, profile: BenchProfile, **figures: Any) -> None:
    """The line ``run.py`` gathers: this bench's headline figures under ``profile``."""
    print(SUMMARY + json.dumps({"bench": bench, "profile": profile.label, **figures}),
          flush=True)


def target(name: str, profile: BenchProfile | None, measured: float, goal: float, *,
           unit: str = "", floor: float | None = None, at_least: bool = False) -> bool:
    """One of the issue's targets, measured: a ``TARGET {json}`` line ``run.py`` gathers into
    the closing table (measured vs target, the floor beside a call count). ``at_least``: the
    target is a minimum (a rate), else a maximum. Whether it was met."""
    met = measured >= goal if at_least else measured <= goal
    print(TARGET + json.dumps({"target": name, "profile": profile.label if profile else "-",
                               "measured": measured, "goal": goal, "unit": unit,
                               "floor": floor, "at_least": at_least, "met": met}),
          flush=True)
    return met


def calls_by_endpoint(before: dict[str, Any], after: dict[str, Any]) -> str:
    """``"composite 1, POST jobs/query 3, ..."`` from two ``tally()`` snapshots: the calls
    made between them by kind of request, so a count above its floor says where it went."""
    counts: Counter[str] = Counter()
    for method, path in after["journal"][len(before["journal"]):]:
        counts[f"{method} {_endpoint(path)}"] += 1
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items()))


def _endpoint(path: str) -> str:
    """A request's path without its API version and with Ids as ``{id}``."""
    parts = [p for p in path.split("/") if p and p not in ("services", "data")
             and not _VERSION.fullmatch(p)]
    return "/".join("{id}" if _ID.fullmatch(p.split("-")[0]) and any(c.isdigit() for c in p)
                    else p for p in parts)  # (a query cursor: ``{Id}-{offset}``)


_VERSION = re.compile(r"v\d+\.\d+")
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


def _ahead(offset: dt.timedelta) -> Callable[[], dt.datetime]:
    return lambda: dt.datetime.now(dt.UTC) + offset


def _serve(kwargs: dict[str, Any], ready: Any, commands: Any, replies: Any) -> None:
    from connectors.emulator.server import Emulator

    state_dir = kwargs.pop("state_dir")
    with Emulator(Path(state_dir), **kwargs) as org:
        org.org.set_knobs(journal=True)  # every call, for ``calls_by_endpoint``
        ready.put((org.env(), org.env(jwt=True)))
        while (command := commands.get()) != "stop":
            if isinstance(command, tuple):  # ("age", seconds): the org's clock moves on
                org.org.set_clock(_ahead(dt.timedelta(seconds=command[1])))
            replies.put({**org.org.bulk_tally.snapshot(), "api_calls": org.api_calls,
                         "journal": [(m, p) for _, _, m, p in org.org.journal]})


class OrgProcess:
    """A local org in a child process (its memory is not the benchmark's), answering
    ``tally()``: the Bulk jobs, polls and API calls it counted so far, and every call's
    method and path (``calls_by_endpoint``)."""

    def __init__(self, state_dir: Path, profile: BenchProfile, **emulator: Any) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._ready, self._commands, self._replies = ctx.Queue(), ctx.Queue(), ctx.Queue()
        kwargs = {"state_dir": str(state_dir), **profile.emulator_kwargs(), **emulator}
        self._child = ctx.Process(target=_serve, args=(kwargs, self._ready, self._commands,
                                                       self._replies), daemon=True)
        self.env: dict[str, str] = {}
        self.jwt_env: dict[str, str] = {}

    def __enter__(self) -> OrgProcess:
        self._child.start()
        self.env, self.jwt_env = self._ready.get(timeout=900)
        return self

    def peak_mb(self) -> float:
        """The org process's peak RSS so far (``VmHWM``), in MB: whether the local org copes."""
        status = Path(f"/proc/{self._child.pid}/status").read_text(encoding="utf-8")
        kb = next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
        return int(kb) / 1024

    def tally(self) -> dict[str, Any]:
        self._commands.put("tally")
        return dict(self._replies.get(timeout=60))

    def age(self, by: dt.timedelta) -> None:
        """Move the org's clock ``by`` past the wall clock, as if what it holds had been
        entered that long before (a backlog, not rows fresh from a seed)."""
        self._commands.put(("age", by.total_seconds()))
        self._replies.get(timeout=60)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._commands.put("stop")
        self._child.join(60)
        if self._child.is_alive():
            self._child.terminate()
