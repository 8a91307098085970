"""Holding the org while a command writes to it: one way for every command that does.

``mapsync sync --once``, ``reconcile``, ``mappings apply`` and ``share`` each write to the org,
so each takes the org's lease as the worker does: it waits ``--wait`` seconds for another
process to finish, then gives up with one line naming the holder. While the command runs, the
lease is renewed, checked before every request that writes records, and every commit is fenced
on it; SIGTERM/SIGINT stop the run at a safe point (a second signal ends the process).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sync.cli.app import fail
from sync.cli.runtime import Runtime
from sync.cli.signals import stop_on_signals
from sync.cycle import RunControl, StopToken
from sync.jobs.lease import OrgLease

LEASE_TTL_SECONDS = 90.0


@contextmanager
def holding_the_org(rt: Runtime, wait: float, what: str) -> Iterator[RunControl]:
    """The org's lease for the length of the block, or one line and exit 1."""
    lease = OrgLease(rt.store, rt.org.id, ttl_seconds=LEASE_TTL_SECONDS)
    if not lease.take(wait_seconds=wait):
        held = rt.store.lease(rt.org.id)
        holder = held.holder if held is not None else "another process"
        raise fail(f"org {rt.org.id} is being synced by {holder}; nothing done (try again "
                   "when it has finished)")
    lease.start_heartbeat(LEASE_TTL_SECONDS / 6)
    rt.org.salesforce.set_write_guard(lease.check)
    try:
        with stop_on_signals(StopToken(), what) as token:
            yield RunControl(stop=token, guard=lease.fence, before_write=lease.check)
    finally:
        rt.org.salesforce.set_write_guard(None)
        lease.release()
