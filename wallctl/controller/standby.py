"""Hot standby: two controllers with one configuration, exactly one active, chosen through the broker.

Both ingest every event through their own persistent session, journal it and apply every operator command, so
both hold the whole picture; only the active one publishes the wall's topics, answers commands and drives the
sound. Each announces itself on the retained ``<prefix>/controllers/<id>`` through a small connection of its own
whose last will says ``offline`` and whose keep-alive is short: a killed controller, or one whose PC left the
network, is seen gone by the broker within a lease, and the best remaining candidate takes over.

The rules, in order: a controller off the broker is never active (it cannot publish, and must not sound on its
own); of two actives that see each other, the one active longer keeps the wall; with none active, the preferred
candidate (``primary``, then the lower id) claims it at once and any other after a grace, so a primary that does
not come up never leaves the wall without one. A controller that comes back finds the other active and stays
standby: nothing is taken from an active controller that works.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wallctl.core.clock import Clock
from wallctl.core.signal import Signal
from wallctl.core.sound.annunciator import AudioSink
from wallctl.core.sound.soundmap import Sound

log = logging.getLogger("wallctl.standby")

RANK = {"primary": 0, "standby": 1}
SETTLE_S = 0.7  # after (re)connecting: the retained entries of the others arrive before anything is decided
CLAIM_GRACE_S = 1.0  # a better candidate online gets this long to claim a vacant wall before another does


@dataclass
class Peer:
    id: str
    role: str  # active | standby
    status: str  # online | offline
    since: float
    preference: str = "standby"

    @classmethod
    def from_body(cls, peer_id: str, body: dict[str, Any]) -> Peer:
        return cls(
            id=peer_id,
            role=str(body.get("role") or "standby"),
            status=str(body.get("status") or "offline"),
            since=float(body.get("since") or 0.0),
            preference=str(body.get("preference") or "standby"),
        )


class Election:
    def __init__(self, me: str, preference: str, clock: Clock) -> None:
        self.me = me
        self.preference = preference
        self.clock = clock
        self.peers: dict[str, Peer] = {}
        self.active = False
        self.since = clock.now()  # when the current role began
        self.connected = False
        self._connected_at = 0.0
        self._vacant_since: float | None = None
        self.changed: Signal[[bool]] = Signal("controller role")  # True: this one is now active

    # ---------------------------------------------------------------- inputs
    def on_peer(self, peer_id: str, body: dict[str, Any] | None) -> None:
        """A ``controllers/<id>`` message (None: the retained entry was cleared)."""
        if peer_id == self.me:
            return
        if body is None:
            self.peers.pop(peer_id, None)
        else:
            self.peers[peer_id] = Peer.from_body(peer_id, body)
        self.decide()

    def forget_peers(self) -> None:
        """The presence connection is (re)made: what was known of the others may be stale (they moved on while
        this one was cut off); their retained entries arrive again now, and nothing is decided before them."""
        self.peers.clear()
        self._connected_at = self.clock.now()

    def on_link(self, connected: bool) -> None:
        if connected and not self.connected:
            self._connected_at = self.clock.now()
        self.connected = connected
        self.decide()

    # ---------------------------------------------------------------- the decision
    def other_active(self) -> Peer | None:
        return next((p for p in self.peers.values() if p.status == "online" and p.role == "active"), None)

    def decide(self) -> None:
        now = self.clock.now()
        if not self.connected:
            self._set(False, "off the broker")
            return
        other = self.other_active()
        if self.active:
            if other is not None and (other.since, other.id) < (self.since, self.me):
                self._set(False, f"{other.id} has been active longer")
            return
        if other is not None:
            self._vacant_since = None
            return
        if now - self._connected_at < SETTLE_S and not self.peers:
            return  # with another's entry in hand there is nothing more to wait for (a wall has two controllers)
        if self._vacant_since is None:
            self._vacant_since = now
        mine = (RANK.get(self.preference, 1), self.me)
        better = [
            p.id for p in self.peers.values() if p.status == "online" and (RANK.get(p.preference, 1), p.id) < mine
        ]
        if better and now - self._vacant_since < CLAIM_GRACE_S:
            return  # the preferred one claims; if it does not, this one will
        self._set(True, "no other controller is active")

    def _set(self, active: bool, why: str) -> None:
        if active == self.active:
            return
        self.active = active
        self.since = self.clock.now()
        self._vacant_since = None
        log.warning("controller %s is now %s: %s", self.me, "ACTIVE" if active else "standby", why)
        self.changed.emit(active)

    # ---------------------------------------------------------------- outputs
    def entry(self, status: str = "online") -> dict[str, Any]:
        """This controller's ``controllers/<id>`` body (``preference``: an extension, what the election ranks)."""
        return {
            "id": self.me,
            "role": "active" if self.active else "standby",
            "status": status,
            "since": round(self.since, 3),
            "preference": self.preference,
            "time": round(self.clock.now(), 3),
        }

    def summary(self) -> dict[str, str]:
        """Every controller known and its role, or ``offline``: the state's ``controllers`` (for the banner)."""
        out = {self.me: "active" if self.active else "standby"}
        for p in self.peers.values():
            out[p.id] = p.role if p.status == "online" else "offline"
        return out


class GatedSink:
    """The audio output of a controller that may be standby: it sounds only while active (the annunciator keeps
    deciding all the while, so the active one's horn is the standby's too the moment it takes over)."""

    def __init__(self, sink: AudioSink, is_open: Callable[[], bool]) -> None:
        self.sink = sink
        self.is_open = is_open

    def play(self, sound: Sound, volume: float) -> None:
        if self.is_open():
            self.sink.play(sound, volume)

    def follow(self, sound: Sound, volume: float) -> None:
        if self.is_open():
            self.sink.follow(sound, volume)

    def stop(self) -> None:
        self.sink.stop()

    def close(self) -> None:
        close = getattr(self.sink, "close", None)
        if close is not None:
            close()
