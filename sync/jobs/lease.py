"""One process's hold on an org's lease: who may write to Salesforce for the org, and when not.

Two mapsync processes that both write one org would fight over every record, so every process
that writes (the worker, ``mapsync sync --once``) first takes the org's lease row in the store
(``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), renews it
from a heartbeat while it works, and gives it back when done. A holder that lost the lease —
it stalled past the lease's time to live and another process took over — must stop writing at
once, not only stop committing: :meth:`OrgLease.check` runs before every write step of a run
and fails as soon as the heartbeat saw the loss or the store names another holder, and
:meth:`OrgLease.fence` runs inside every commit.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid

from config.errors import LeaseLostError
from config.logging import get_logger
from sync.store import Store, Transaction

log = get_logger("mapsync.lease")


def default_holder() -> str:
    """A name unique to this process: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _dead_here(holder: str) -> bool:
    """Whether ``holder`` (``host:pid:…``) names a process of this host that does not exist."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class OrgLease:
    """The lease of one org as one holder sees it."""

    def __init__(self, store: Store, org_id: str, holder: str | None = None, *,
                 ttl_seconds: float = 90.0) -> None:
        self.store = store
        self.org_id = org_id
        self.holder = holder or default_holder()
        self.ttl_seconds = ttl_seconds
        self.holding = False
        self._beat: threading.Thread | None = None
        self._done = threading.Event()

    def take(self, wait_seconds: float = 0.0, poll_seconds: float = 0.5) -> bool:
        """Take the lease, waiting up to ``wait_seconds`` for another holder to give it up.

        A holder on this same host whose process no longer exists (killed, crashed) is
        gone for sure: its lease is taken over at once instead of after its time to live, so
        a worker restarted after a SIGKILL makes progress straight away."""
        deadline = time.monotonic() + wait_seconds
        while True:
            held = self.store.try_acquire_lease(self.org_id, self.holder, self.ttl_seconds)
            if not held:
                current = self.store.lease_holder(self.org_id)
                if current is not None and _dead_here(current):
                    held = self.store.take_over_lease(self.org_id, current, self.holder,
                                                      self.ttl_seconds)
                    if held:
                        log.info("lease taken over from a process that is gone",
                                 gone=current, holder=self.holder)
            if held and not self.holding:
                log.info("lease taken", holder=self.holder, org=self.org_id)
            self.holding = held
            if held or time.monotonic() >= deadline:
                return held
            time.sleep(min(poll_seconds, max(deadline - time.monotonic(), 0.0)))

    def renew(self) -> bool:
        """One heartbeat: renew while holding; a failed renewal means the lease is lost."""
        if self.holding and not self.store.heartbeat(self.org_id, self.holder):
            self.holding = False
            log.warning("lease lost: another process took over", holder=self.holder,
                        org=self.org_id)
        return self.holding

    def check(self) -> None:
        """Before a write to Salesforce: raise :class:`LeaseLostError` unless still held."""
        if self.holding:  # a plain read: the commit fence is the locking check
            self.holding = self.store.lease_holder(self.org_id) == self.holder
        if not self.holding:
            raise LeaseLostError(f"lease of org {self.org_id} lost by {self.holder}: "
                                 "stopped before writing to Salesforce")

    def fence(self, tx: Transaction) -> None:
        """Inside a commit: refuse to commit unless still held (on PostgreSQL the lease
        cannot change hands until the commit is done)."""
        if not tx.holds_lease(self.org_id, self.holder):
            self.holding = False
            raise LeaseLostError(f"lease of org {self.org_id} lost by {self.holder}: "
                                 "the run's local state is not committed")

    def release(self) -> None:
        self.stop_heartbeat()
        if self.holding:
            self.store.release_lease(self.org_id, self.holder)
            self.holding = False

    def start_heartbeat(self, every_seconds: float) -> None:
        """Renew from a thread of its own every ``every_seconds`` until released."""
        def beat() -> None:
            while not self._done.wait(every_seconds):
                try:
                    if not self.renew():
                        return
                except Exception as err:  # a failed renewal is a lost lease, not a crash
                    self.holding = False
                    log.warning("lease not renewed", error=str(err))
                    return

        self._done.clear()
        self._beat = threading.Thread(target=beat, name="lease-heartbeat", daemon=True)
        self._beat.start()

    def stop_heartbeat(self) -> None:
        self._done.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
            self._beat = None
