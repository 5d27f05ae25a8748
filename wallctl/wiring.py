"""Wiring a controller onto a loop, shared by the two composition roots that run one: the headless controller
(asyncio) and the single-process wall (Qt). The dispatcher, the broker link, live reload and the benchmark hooks
are put together the same way in both; each root adds only what is its own (views, presence, windows)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass

from wallctl.adapters.audio import SimpleAudioSink
from wallctl.adapters.mqtt import MqttLink
from wallctl.controller.build import inbox_policy, load_config_layouts
from wallctl.controller.link import Inbound, LoopHooks
from wallctl.controller.reload import LayoutWatcher
from wallctl.controller.runtime import Runtime, settle_heap, tame_collector
from wallctl.controller.service import WallService
from wallctl.core.config.settings import LoadedConfig
from wallctl.core.sound.annunciator import AudioSink
from wallctl.core.wire.strict import dumps_strict


@dataclass
class Wired:
    runtime: Runtime
    link: MqttLink
    watcher: LayoutWatcher


def wire_controller(
    config: LoadedConfig,
    service: WallService,
    token: str | None,
    loop: LoopHooks,
    sink: AudioSink,
    *,
    on_message: Callable[[Inbound], None] | None = None,
    extra_subscriptions: tuple[tuple[str, int], ...] = (),
) -> Wired:
    """``on_message``: in front of the runtime's (the controller takes display presence first)."""
    prefix = config.state_prefix
    runtime = Runtime(service, inbox_policy(config, token), state_prefix=prefix, loop=loop)
    link = MqttLink(
        config.model.mqtt,
        client_id=config.client_id,
        state_prefix=prefix,
        hooks=loop,
        on_message=on_message or runtime.on_message,
        on_link=runtime.on_link,
        password=config.password(),
        extra_subscriptions=(
            (f"{prefix}/cmd", 1),
            *extra_subscriptions,
            *((t, 1) for t in service.kpis.topics),
        ),
    )
    runtime.attach(link)
    if os.environ.get("WALLCTL_BENCH"):  # benchmarks: the loop's longest stall each second, and each sound
        runtime.on_loop_report = lambda late: link.publish(
            f"{prefix}/bench/loop", dumps_strict({"max_late_ms": round(late * 1000, 1)}), qos=0
        )
        if isinstance(sink, SimpleAudioSink):  # called on the device thread: published from the loop
            sink.on_played = lambda name, at: loop.call_soon(
                lambda: link.publish(f"{prefix}/bench/sounded", json.dumps({"sound": name, "at": at}), qos=0)
            )
    watcher = LayoutWatcher(config.resolve(config.model.layouts), lambda: load_config_layouts(config), service, loop)
    tame_collector()
    settle_heap()  # the restored picture is long-lived: out of the collector's sight from the start
    return Wired(runtime, link, watcher)
