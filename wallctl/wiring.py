"""Wiring a controller onto a loop, shared by the two composition roots that run one: the headless controller
(asyncio) and the single-process wall (Qt). The dispatcher, the broker link, live reload and the benchmark hooks
are put together the same way in both; each root adds only what is its own (views, presence, windows)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from wallctl.adapters.audio import SimpleAudioSink
from wallctl.adapters.mqtt import MqttLink
from wallctl.adapters.presence import PresenceLink
from wallctl.adapters.speech import Speaker
from wallctl.controller.build import inbox_policy, load_config_layouts
from wallctl.controller.inbox import URGENT_MARKERS
from wallctl.controller.link import Inbound, LinkEvent, LoopHooks
from wallctl.controller.reload import LayoutWatcher
from wallctl.controller.runtime import Runtime, settle_heap, tame_collector
from wallctl.controller.service import WallService
from wallctl.controller.standby import Election
from wallctl.controller.views import ViewPublisher
from wallctl.core.config.settings import LoadedConfig
from wallctl.core.config.sites import site_subscriptions
from wallctl.core.sound.annunciator import AudioSink
from wallctl.core.sound.soundmap import Sound
from wallctl.core.sound.voice import Utterance
from wallctl.core.wire.strict import dumps_strict

log = logging.getLogger("wallctl.speech")


@dataclass
class Wired:
    runtime: Runtime
    link: MqttLink
    watcher: LayoutWatcher
    speaker: Speaker | None = None


def start_speech(service: WallService, loop: LoopHooks) -> Speaker | None:
    """Spoken announcements: the annunciator's voice says, the speaker synthesises off the loop, the annunciator
    plays it after its tone if still wanted. None when the sound map has no voice."""
    voice = service.annunciator.voice
    if voice is None:
        return None

    def deliver(utterance: Utterance, clip: Sound) -> None:
        if service.annunciator.speak(utterance, clip):
            log.info("saying %r", utterance.text)  # what the room heard, in the log (unless pre-empted meanwhile)

    speaker = Speaker(
        voice.spec,
        deliver,
        loop.call_soon,
        on_error=lambda message: service.set_voice(False, message),
        on_recovered=lambda: service.set_voice(True),
    ).start()
    voice.said.connect(speaker.say)
    service.speech_on = True
    service.state_changed.emit()
    return speaker


def wire_controller(
    config: LoadedConfig,
    service: WallService,
    token: str | None,
    loop: LoopHooks,
    sink: AudioSink,
    *,
    on_message: Callable[[Inbound], None] | None = None,
    on_link: Callable[[LinkEvent], None] | None = None,
    extra_subscriptions: tuple[tuple[str, int], ...] = (),
    speech: bool = True,
) -> Wired:
    """``on_message``: in front of the runtime's (the controller takes display presence first); ``on_link``: after
    the runtime's (the standby election follows the link); ``speech``: False with the audio off."""
    prefix = config.state_prefix
    runtime = Runtime(service, inbox_policy(config, token, service.parts.profile_maps), state_prefix=prefix, loop=loop)

    def link_changed(event: LinkEvent) -> None:
        runtime.on_link(event)
        if on_link is not None:
            on_link(event)

    link = MqttLink(
        config.model.mqtt,
        client_id=config.client_id,
        state_prefix=prefix,
        hooks=loop,
        on_message=on_message or runtime.on_message,
        on_link=link_changed,
        password=config.password(),
        extra_subscriptions=(
            (f"{prefix}/cmd", 1),
            *extra_subscriptions,
            *((t, 1) for t in service.kpis.topics),
            *site_subscriptions(config.model.sites, ((s.filter, s.qos) for s in config.model.mqtt.subscriptions)),
        ),
    )
    runtime.attach(link)
    link.urgent_markers, link.take_ahead, link.on_reached = URGENT_MARKERS, runtime.take_ahead, runtime.reached
    if os.environ.get("WALLCTL_BENCH"):  # benchmarks: the loop's longest stall each second, and each sound
        runtime.on_loop_report = lambda late: link.publish(
            f"{prefix}/bench/loop", dumps_strict({"max_late_ms": round(late * 1000, 1)}), qos=0
        )
        if isinstance(sink, SimpleAudioSink):  # called on the device thread: published from the loop
            sink.on_played = lambda name, at: loop.call_soon(
                lambda: link.publish(f"{prefix}/bench/sounded", json.dumps({"sound": name, "at": at}), qos=0)
            )
    watcher = LayoutWatcher(config.resolve(config.model.layouts), lambda: load_config_layouts(config), service, loop)
    speaker = start_speech(service, loop) if speech and config.model.audio.enabled else None
    tame_collector()
    settle_heap()  # the restored picture is long-lived: out of the collector's sight from the start
    return Wired(runtime, link, watcher, speaker)


class Standby:
    """Hot standby for one controller (``controller.id`` set): its presence connection, the election, and what a
    change of role does. Both controllers run everything; the role only opens or closes what leaves them."""

    HEARTBEAT_S = 2.0
    DECIDE_S = 0.2

    def __init__(
        self,
        config: LoadedConfig,
        wired: Wired,
        views: ViewPublisher,
        election: Election,
        loop: LoopHooks,
    ) -> None:
        self.config = config
        self.wired = wired
        self.views = views
        self.election = election
        self.loop = loop
        self.service = wired.runtime.service
        prefix = config.state_prefix
        self.status_topic = f"{prefix}/status"
        self.peers_prefix = f"{prefix}/controllers/"
        self._main_up = self._presence_up = False
        self._beat = 0.0
        wired.link.gate = lambda _topic: election.active
        wired.runtime.inbox.mirroring = lambda: not election.active and election.other_active() is not None
        self.service.controllers = election.summary
        election.changed.connect(self._role_changed)
        self.presence = PresenceLink(
            config.model.mqtt,
            client_id=f"{config.client_id}-presence",
            topic=f"{self.peers_prefix}{election.me}",
            will=dumps_strict(election.entry("offline")).encode(),
            watch=[f"{self.peers_prefix}+", self.status_topic],
            on_message=lambda topic, payload: loop.call_soon(lambda: self._on_presence(topic, payload)),
            on_connected=lambda up: loop.call_soon(lambda: self._presence_link(up)),
            password=config.password(),
        )

    def start(self) -> None:
        self.presence.announce(self._entry())
        self.presence.start()
        self._tick()

    def stop(self) -> None:
        self.presence.stop(final=dumps_strict(self.election.entry("offline")).encode())

    def on_link(self, event: LinkEvent) -> None:
        """The event link: a controller off the broker is never active (it could neither publish nor be told)."""
        if event.state in ("connected", "disconnected"):
            self._main_up = event.state == "connected"
            self.election.on_link(self._main_up and self._presence_up)

    def _presence_link(self, up: bool) -> None:
        if up and not self._presence_up:
            self.election.forget_peers()
        self._presence_up = up
        self.election.on_link(self._main_up and self._presence_up)

    def _on_presence(self, topic: str, payload: bytes) -> None:
        if topic == self.status_topic:
            # every controller's event link has the wall's status as its will: one that dies says "offline";
            # the active one says "online" again at once (displays wait a second before they call it lost)
            if payload == b"offline" and self.election.active:
                self.wired.link.client.publish(self.status_topic, "online", qos=1, retain=True)
            return
        peer = topic[len(self.peers_prefix) :]
        try:
            body = json.loads(payload) if payload else None
        except ValueError:
            return
        before = self.election.summary()
        self.election.on_peer(peer, body if isinstance(body, dict) else None)
        if self.election.summary() != before:  # a heartbeat changes nothing the state shows: no republication
            self.service.state_changed.emit()

    def _entry(self) -> bytes:
        return dumps_strict(self.election.entry()).encode()

    def _tick(self) -> None:
        """Decide again (settle and claim graces run out with time) and refresh the entry's ``time``."""
        self.election.decide()
        self._beat += self.DECIDE_S
        if self._beat >= self.HEARTBEAT_S:
            self._beat = 0.0
            self.presence.announce(self._entry())
        self.loop.call_later(self.DECIDE_S, self._tick)

    def _role_changed(self, active: bool) -> None:
        self.presence.announce(self._entry())
        runtime, service = self.wired.runtime, self.service
        if active:
            service.started = service.clock.now()  # a new epoch: displays take this one's messages over the old
            self.wired.link.client.publish(self.status_topic, "online", qos=1, retain=True)
            self.views.republish()
            runtime.publish_state()
            runtime.publish_alarms()
            service.annunciator.resume()
        else:
            service.annunciator.sink.stop()
        service.state_changed.emit()
