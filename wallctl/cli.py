"""``wallctl`` command line. Exit codes: 0 success, 1 failure (e.g. invalid files), 2 usage error."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import NoReturn

from wallctl import __version__

EPILOG = """\
--config defaults to $WALLCTL_CONFIG, then config/wallctl.yaml.
Documentation: README.md. Interfaces (topics, payloads, commands): see the README's 'Interfaces' section."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # usage errors exit 2, as documented
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def host_port(text: str) -> str:
    """argparse type for --broker: a usage error (exit 2) names the expected form, before anything starts."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:1883)")
    return text


def rfc3339_time(text: str) -> float:
    """argparse type for --from/--to: a bad time is a usage error (exit 2) that shows the expected form."""
    from wallctl.core.measures.records import parse_rfc3339

    try:
        return parse_rfc3339(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _broker_args(p: argparse.ArgumentParser, config_help: str = "configuration file") -> None:
    """What every process that talks to the broker takes: its config file and a broker over the configured one."""
    p.add_argument("--config", help=config_help)
    p.add_argument("--broker", type=host_port, metavar="HOST:PORT", help="override the configured broker")


def _protocol_arg(p: argparse.ArgumentParser) -> None:
    """Hidden: the demo's embedded broker speaks MQTT 3.1.1 only, so its children are told so."""
    p.add_argument("--mqtt-protocol", choices=["5", "3.1.1"], help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="wallctl",
        description="Video wall and alarm annunciator for command centers.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"wallctl {__version__}")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="the wall: one full-screen window per configured monitor",
        description="Run the wall: subscribe to the event topics, show the display modes full-screen "
        "on every configured monitor, sound the alarms.",
    )
    _broker_args(run)
    run.add_argument("--windowed", action="store_true", help="ordinary windows instead of full-screen (for a desk)")
    run.add_argument("--no-audio", action="store_true", help="do not play sounds (the wall still shows them)")
    run.add_argument("--screenshot", type=Path, metavar="PNG", help="write a picture of the whole wall here")
    run.add_argument("--screenshot-every", type=float, default=5.0, metavar="S", help="how often (default 5 s)")
    run.add_argument("--duration", type=float, metavar="S", help="exit after S seconds (tests, kiosks)")
    run.add_argument("--journal", type=Path, help="override the configured journal file")
    run.add_argument(
        "--one-process",
        action="store_true",
        help="controller and monitors in this one process (default: a supervised controller process and a "
        "display process for every node of layouts/wall.yaml)",
    )

    ctl = sub.add_parser(
        "controller",
        help="the headless controller: ingest, alarms, journal, rules, sound, state topics (no Qt)",
        description="Run the wall's controller without a screen: subscribe to the event topics, keep the alarms "
        "and the journal, decide the display mode, sound the alarms, publish the state topics and answer commands. "
        "It imports no Qt.",
    )
    _broker_args(ctl)
    ctl.add_argument("--no-audio", action="store_true", help="do not play sounds (state still says what sounds)")
    ctl.add_argument("--duration", type=float, metavar="S", help="exit after S seconds (tests)")
    ctl.add_argument("--journal", type=Path, help="override the configured journal file")
    ctl.add_argument("--id", dest="controller_id", metavar="NAME", help="this controller's name (hot standby)")
    ctl.add_argument(
        "--role", choices=["primary", "standby"], help="which of two controllers takes the wall when both are up"
    )
    _protocol_arg(ctl)

    disp = sub.add_parser(
        "display",
        help="a display node: draws the monitors of its node, following the controller",
        description="Run a display node: follow the wall's controller over MQTT and draw the monitors that "
        "layouts/wall.yaml assigns to NODE (monitors' 'node:', default main). Needs only the broker settings and "
        "wall_id of the config; layouts and topology come from the controller.",
    )
    _broker_args(disp, "configuration file (its mqtt section and wall_id)")
    disp.add_argument("--node", default="main", help="this PC's node name in layouts/wall.yaml (default main)")
    disp.add_argument("--windowed", action="store_true", help="ordinary windows instead of full-screen")
    disp.add_argument("--screenshot", type=Path, metavar="PNG", help="write a picture of this node's monitors")
    disp.add_argument("--duration", type=float, metavar="S", help="exit after S seconds (tests)")
    _protocol_arg(disp)

    gw = sub.add_parser(
        "gateway",
        help="webhooks and syslog from tools that cannot speak MQTT, published as wallctl events",
        description="Convert what Alertmanager, Grafana, Zabbix, Nagios/Icinga, snmptrapd and syslog senders send "
        "into wallctl's own events and publish them (QoS 1, stable ids) where the wall listens. A webhook is "
        "answered 200 only once the broker has every event, 503 while it is away (the sender retries).",
    )
    _broker_args(gw)
    gw.add_argument("--http", type=host_port, metavar="HOST:PORT", help="webhook address (default: gateway.http)")
    gw.add_argument("--syslog", type=host_port, metavar="HOST:PORT", help="syslog address, UDP and TCP")
    gw.add_argument("--duration", type=float, metavar="S", help=argparse.SUPPRESS)
    _protocol_arg(gw)

    demo = sub.add_parser(
        "demo",
        help="embedded broker + scenario simulator + the wall in a window",
        description="Start an embedded MQTT broker on 127.0.0.1 (free port), the scenario simulator "
        "publishing to it, and the wall in a window. Without a display the wall runs "
        "off-screen and writes a picture of itself to demo-wall.png.",
    )
    demo.add_argument("--scenario", type=Path, default=Path("config/scenario.yaml"), help="scenario file")
    demo.add_argument("--config", help="configuration file")
    demo.add_argument("--duration", type=float, metavar="S", help="exit after S seconds")
    demo.add_argument(
        "--screenshot",
        type=Path,
        default=Path("demo-wall.png"),
        metavar="PNG",
        help="where the off-screen picture goes (default demo-wall.png)",
    )
    demo.add_argument("--speed", type=float, default=1.0, help="scenario speed factor")
    demo.add_argument("--no-audio", action="store_true", help="do not play sounds")

    val = sub.add_parser(
        "validate",
        help="check config, layouts, rules, topology and sound map files",
        description="Check files; prints one 'path:line:col: message' line per problem, every independent "
        "problem in one run, paths as given. Exit 0 when valid, 1 when not, 2 on usage errors. Lines "
        "'path:line:col: warning: ...' flag valid configuration that would leave the wall blind or deaf (no rule "
        "for a lost broker link, no sound for critical alarms); they do not change the exit code. Without PATH: "
        "the configuration and every file it names.",
    )
    val.add_argument("paths", nargs="*", metavar="PATH", help="files or a layouts directory")
    val.add_argument("--config", help="configuration file (when no PATH is given)")

    prev = sub.add_parser(
        "preview",
        help="the whole wall scaled into one window, reloading on save",
        description="Designer preview: the whole wall scaled into one window with monitor outlines "
        "and bezels; F1-F12 or the mode list switch modes; reloads on save. With --png "
        "it renders every mode to PNG files and exits.",
    )
    prev.add_argument("--layouts", type=Path, help="layouts directory (default: the configured one)")
    prev.add_argument("--mode", help="mode to show first (an unknown one is refused, listing the known modes)")
    prev.add_argument("--config", help="configuration file")
    prev.add_argument(
        "--png", type=Path, metavar="DIR", help="render each mode, with the sample alarms, to DIR/<mode>.png and exit"
    )
    prev.add_argument("--sample-alarms", action="store_true", help="fill the tiles with a made-up sample alarm picture")

    snd = sub.add_parser(
        "sounds",
        help="play each configured alarm sound once, then speak each template (self-test)",
        description="Self-test: play each sound of the sound map once, naming it, then speak a sample of each "
        "spoken template (the sound map's voice). --check only verifies the files, that the audio device opens "
        "and that the speech engine speaks.",
    )
    snd.add_argument("--check", action="store_true", help="verify files, device and speech engine; play nothing")
    snd.add_argument("--config", help="configuration file")

    outs = sub.add_parser(
        "outputs",
        help="walk each beacon, stack light and relay through its patterns (lamp test)",
        description="Lamp test: every channel of every configured output steady, slow, fast, then off, one at a "
        "time, each named as it shows. --check only checks that each output answers, switching nothing; exit 1 if "
        "one does not.",
    )
    outs.add_argument("--check", action="store_true", help="check that each output answers; switch nothing")
    outs.add_argument("--config", help="configuration file")
    outs.add_argument("--step", type=float, default=1.5, metavar="S", help="seconds per pattern (default 1.5)")

    bench = sub.add_parser(
        "bench", help="the benchmark suite", description="Benchmarks, each against a baseline measured in the same run."
    )
    bench.add_argument("--quick", action="store_true", help="short run for CI smoke use (under a minute)")
    bench.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    from wallctl.bench.suite import SECTIONS

    bench.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="SECTION",
        help="run this section only (repeatable): " + ", ".join(f"'{s}'" for s in SECTIONS),
    )

    rep = sub.add_parser(
        "report",
        help="alarm-system performance (EEMUA 191 / ISA-18.2) from the journal",
        description="Measure the alarm system from the journal's history: alarm rate against EEMUA 191's lines, "
        "floods, the top 10 alarms, chattering, fleeting, stale and standing alarms, priority distribution, time to "
        "acknowledge and to clear, shelving and operator actions, each next to its target. Reads the journal "
        "read-only (a running wall's, or a copy). Without --json or --html: a summary on stdout. Exit 0 with a "
        "report, 1 when the journal is missing, unreadable, locked, not a journal or empty in the range, 2 on "
        "usage errors.",
    )
    where = rep.add_mutually_exclusive_group()
    where.add_argument("--config", help="configuration file (its journal and engine policy)")
    where.add_argument("--journal", type=Path, metavar="FILE", help="a journal file (e.g. a copy from another PC)")
    rep.add_argument("--from", dest="start", type=rfc3339_time, metavar="T", help="RFC 3339 start (default: first)")
    rep.add_argument("--to", dest="end", type=rfc3339_time, metavar="T", help="RFC 3339 end, exclusive (default: last)")
    rep.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML report")
    rep.add_argument("--json", type=Path, metavar="FILE", help="write the figures as JSON (- for stdout)")

    bridge = sub.add_parser(
        "bridge-config",
        help="print the Mosquitto bridge section for a branch site's broker",
        description="Print the bridge section to append to a branch broker's mosquitto.conf: it carries the "
        "branch's event topics to the head office's broker under the site's topic_prefix (out only, QoS 1, "
        "persistent session: queued during an outage) and the bridge's state to where the wall watches it. "
        "Broker-wide queue limits are printed as explained comments.",
    )
    bridge.add_argument("--config", help="configuration file (its sites: and mqtt.subscriptions)")
    bridge.add_argument("--site", required=True, help="the site's name in the configuration's sites:")
    bridge.add_argument("--head", required=True, type=host_port, metavar="HOST:PORT", help="the head office's broker")
    bridge.add_argument("--keepalive", type=int, default=30, metavar="S", help="bridge keep-alive (default 30 s)")
    bridge.add_argument(
        "--restart-timeout", type=int, nargs="+", default=[5, 60], metavar="S", help="reconnect after BASE [CAP] s"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help()
        return 2
    from wallctl import commands

    handler = getattr(commands, f"cmd_{args.command.replace('-', '_')}")
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
