"""Telling systemd how the bot is doing: ready, its status, stopping, and the watchdog.

Under a `Type=notify` unit systemd passes the path of a datagram socket in `NOTIFY_SOCKET` and
waits for `READY=1` on it; with `WatchdogSec` it also passes `WATCHDOG_USEC` and restarts the
service when no `WATCHDOG=1` arrives within that time. The pings are sent by a task on the event
loop, so a loop that is stuck stops them and gets the bot restarted.

The protocol (sd_notify(3)) is a few lines, so it is written out here: the `sdnotify` package on
PyPI is unmaintained, and `systemd-python` needs libsystemd's headers to build. The variables are
systemd's protocol with this process rather than configuration, which is why they are read from
the environment (`Notifier.from_environ`) and not through `Settings`. Without `NOTIFY_SOCKET`
(not under systemd, or `Type=simple`) every call does nothing, and a failure to send is logged
once as a warning: telling systemd never stops the bot.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify messages to `address`, or nothing when it is None."""

    def __init__(self, address: str | None = None, *, watchdog_usec: int | None = None) -> None:
        self.address = address
        # systemd's advice: ping at half the interval, so one late ping is not yet a restart.
        self.watchdog_every = watchdog_usec / 2_000_000 if address and watchdog_usec else None
        self._warned = False
        self._stopping = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Notifier:
        """The notifier systemd asked for through `environ` (the process's `os.environ`)."""
        given = environ.get("NOTIFY_SOCKET", "")
        if not given:
            return cls()
        if given.startswith("@"):  # the abstract namespace: a leading NUL byte instead of "@"
            address = "\0" + given[1:]
        elif given.startswith("/"):
            address = given
        else:  # e.g. systemd's vsock: addresses, for services in virtual machines
            log.warning("NOTIFY_SOCKET=%s is not a socket path; systemd is not told", given)
            return cls()
        return cls(address, watchdog_usec=_watchdog_usec(environ))

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def ready(self, status: str) -> None:
        """The service is up (`Type=notify` units count as started from here)."""
        self._send("READY=1", f"STATUS={_one_line(status)}")

    def status(self, status: str) -> None:
        """What `systemctl status` shows as the service's status."""
        self._send(f"STATUS={_one_line(status)}")

    def stopping(self) -> None:
        """The service is stopping; said once, however many parts of the stop say it."""
        if not self._stopping:
            self._stopping = True
            self._send("STOPPING=1", "STATUS=stopping")

    def ping(self) -> None:
        """One watchdog ping; `watchdog` sends them on time."""
        self._send("WATCHDOG=1")

    @asynccontextmanager
    async def watchdog(self) -> AsyncIterator[None]:
        """Watchdog pings from the event loop while the block runs (none when systemd asked for
        none, or asked another process)."""
        every = self.watchdog_every
        if every is None:
            yield
            return
        self.ping()  # at once: the block may start close to the end of an interval
        task = asyncio.create_task(self._keep_pinging(every), name="systemd-watchdog")
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _keep_pinging(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            self.ping()

    def _send(self, *fields: str) -> None:
        if self.address is None:
            return
        message = "\n".join(fields).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.setblocking(False)  # a full socket queue drops the message, never waits
                sock.sendto(message, self.address)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("cannot notify systemd at NOTIFY_SOCKET (%s); going on without", exc)


def _watchdog_usec(environ: Mapping[str, str]) -> int | None:
    """WATCHDOG_USEC when the watchdog is meant for this process (`WATCHDOG_PID` unset or ours)."""
    pid = environ.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec if usec > 0 else None


def _one_line(status: str) -> str:
    # A newline would end the STATUS field and start another assignment.
    return " ".join(status.splitlines())
