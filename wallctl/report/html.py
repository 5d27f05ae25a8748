"""The HTML report: one self-contained file (inline CSS and SVG, no script), each measure next to its target in
green or red, readable printed."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from html import escape
from typing import Any

from wallctl import __version__
from wallctl.report import charts

CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#111;line-height:1.35}
h1{font-size:1.5em;margin-bottom:0}h2{font-size:1.15em;border-bottom:1px solid #ccc;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.met{background:#dafbe1;color:#0a4d1c}.missed{background:#ffebe9;color:#82071e}.info{background:#f3f3f3;color:#444}
.badge{font-weight:bold}.small{color:#555;font-size:.9em}
section{break-inside:avoid;page-break-inside:avoid}
@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-after:avoid}}
"""


def _v(met: bool | None) -> tuple[str, str]:
    if met is None:
        return "info", "informative"
    return ("met", "met") if met else ("missed", "NOT MET")


def _table(head: list[str], rows: list[list[Any]], numeric: AbstractSet[int] = frozenset()) -> str:
    if not rows:
        return '<p class="small">none</p>'
    h = "".join(f"<th>{escape(c)}</th>" for c in head)
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=n' if i in numeric else ''}>{escape(str(c))}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{h}</tr>{body}</table>"


def _times(block: dict[str, Any]) -> list[list[Any]]:
    rows = [["all", block["count"], block["median"], block["p90"], block["max"]]]
    for p, d in block["by_priority"].items():
        rows.append([p, d["count"], d["median"], d["p90"], d["max"]])
    return [[c if c is not None else "-" for c in r] for r in rows]


def render(f: dict[str, Any], *, journal: str) -> str:
    """The whole page for the figures ``f`` (wallctl.core.measures.figures)."""
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>Alarm-system performance {escape(f['from'])} .. {escape(f['to'])}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Alarm-system performance</h1>",
        f'<p class="small">{escape(f["from"])} to {escape(f["to"])} &middot; journal {escape(journal)} &middot; '
        f"{f['alarms']} annunciated alarms ({f['raised']} raised) from {f['history_rows']} transitions &middot; "
        f"wallctl {escape(__version__)} &middot; measures and targets: EEMUA 191, ISA-18.2 (IEC 62682)</p>",
        "<section><h2>Each measure against its target</h2><table>"
        "<tr><th>measure</th><th>value</th><th>target</th><th>verdict</th></tr>",
    ]
    for v in f["verdicts"]:
        cls, word = _v(v["met"])
        out.append(
            f'<tr><td>{escape(v["measure"])}<br><span class="small">{escape(v["meaning"])}</span></td>'
            f"<td class=n>{escape(str(v['value']))}</td><td>{escape(v['target'])}</td>"
            f'<td class="{cls} badge">{word}</td></tr>'
        )
    out.append("</table></section>")
    rs = f["rate_series"]
    unit = "alarms per hour" if rs["step_s"] == 3600 else "alarms per day"
    per = rs["step_s"] / 600.0  # EEMUA's lines are per 10 minutes: drawn at this chart's step
    out.append(f"<section><h2>Alarm rate ({unit})</h2>")
    out.append(
        charts.bars(
            rs["alarms"],
            title="alarm rate",
            unit=unit,
            lines=(
                (1 * per, "acceptable (1 / 10 min)", "#1a7f37"),
                (2 * per, "manageable (2 / 10 min)", "#9a6700"),
                (10 * per, "flood (10 / 10 min)", "#cf222e"),
            ),
            first_label=f["from"],
            last_label=f["to"],
        )
    )
    r10 = f["rate_per_10min"]
    out.append(
        f"<p>Mean {r10['mean']} per 10 minutes ({r10['level']}), at most {r10['max']} in one 10-minute interval; "
        f"mean {f['rate_per_hour']['mean']} per hour, at most {f['rate_per_hour']['max']}. "
        f"{f['intervals_over_10_pct']} % of 10-minute intervals had more than 10 alarms.</p></section>"
    )
    out.append(f"<section><h2>Floods ({f['flood_count']}, {f['time_in_flood_pct']} % of the time)</h2>")
    out.append(
        _table(
            ["start", "end", "duration", "peak / 10 min", "alarms", "first out"],
            [
                [
                    fl["start"],
                    fl["end"] + (" (ongoing)" if fl["ongoing"] else ""),
                    f"{fl['duration_s'] / 60:.1f} min",
                    fl["peak_per_10min"],
                    fl["alarms"],
                    ", ".join(f"{a['source']}/{a['type']}" for a in fl["first_out"][:5])
                    + (" ..." if len(fl["first_out"]) > 5 else ""),
                ]
                for fl in f["floods"][:100]
            ],
            {3, 4},
        )
    )
    out.append("</section><section><h2>Top 10 most frequent alarms</h2>")
    top = f["top10"]
    out.append(
        charts.pareto(
            [f"{t['source']}/{t['type']}" for t in top], [t["count"] for t in top], f["alarms"], title="top 10"
        )
    )
    out.append(
        _table(
            ["#", "source", "type", "count", "share"],
            [[i + 1, t["source"], t["type"], t["count"], f"{t['share']:.1%}"] for i, t in enumerate(top)],
            {0, 3, 4},
        )
    )
    out.append(f"<p>Together {f['top10_share']:.1%} of all alarms (target 1-5 %).</p></section>")
    out.append(f"<section><h2>Chattering alarms ({f['chattering_count']})</h2>")
    out.append(
        _table(
            ["source", "type", "transitions", "chattering episodes"],
            [[c["source"], c["type"], c["transitions"], c["episodes"]] for c in f["chattering"]],
            {2, 3},
        )
    )
    out.append(f"<h2>Fleeting alarms ({f['fleeting_count']})</h2>")
    out.append(
        _table(["source", "type", "occurrences"], [[x["source"], x["type"], x["count"]] for x in f["fleeting"]], {2})
    )
    by_src = sorted(set(f["chattering_by_source"]) | set(f["fleeting_by_source"]))
    out.append("<h3>Per source</h3>")
    out.append(
        _table(
            ["source", "chattering alarms", "fleeting occurrences"],
            [[s, f["chattering_by_source"].get(s, 0), f["fleeting_by_source"].get(s, 0)] for s in by_src],
            {1, 2},
        )
    )
    st = f["standing"]
    step = "hour" if st["sample_s"] == 3600 else "day"
    out.append(f"</section><section><h2>Standing and stale alarms (sampled every {step})</h2>")
    out.append(
        charts.line(
            [s["standing"] for s in st["series"]],
            title="standing alarms",
            unit="alarms",
            lines=((10, "standing: fewer than 10", "#9a6700"), (5, "stale: fewer than 5", "#cf222e")),
            first_label=f["from"],
            last_label=f["to"],
            second=st["stale_series"],
        )
    )
    out.append(
        f"<p>Standing (in alarm, solid line): mean {st['mean']}, at most {st['max']}. Stale (active over 24 h, "
        f"dotted): at most {f['stale_max']} at any time.</p></section>"
    )
    shares, counts = f["priority"], f["priority_counts"]
    out.append("<section><h2>Priority of annunciated alarms</h2>")
    out.append(
        _table(
            ["priority", "alarms", "share", "target"],
            [
                [p, counts[p], "-" if shares[p] is None else f"{shares[p]:.1%}", tgt]
                for p, tgt in (("low", "80 %"), ("medium", "15 %"), ("high", "5 %"), ("cue", "-"))
            ],
            {1, 2},
        )
    )
    out.append("</section><section><h2>Operator response (seconds)</h2><h3>Time to acknowledge</h3>")
    head = ["priority", "alarms", "median", "p90", "max"]
    out.append(_table(head, _times(f["time_to_ack_s"]), {1, 2, 3, 4}))
    out.append("<h3>Time to clear</h3>")
    out.append(_table(head, _times(f["time_to_clear_s"]), {1, 2, 3, 4}))
    out.append(f"<p>Annunciated alarms never acknowledged by the end of the range: {f['never_acked']}.</p></section>")
    out.append("<section><h2>Shelved, suppressed and out of service</h2>")
    aside = []
    for name in ("shelved", "suppressed", "out_of_service"):
        s = f[name]
        d = s["duration_s"]
        aside.append([name.replace("_", " "), s["count"], s["alarms"], s["still"], d["median"], d["p90"], d["max"]])
    aside = [[c if c is not None else "-" for c in r] for r in aside]
    out.append(
        _table(["", "times", "alarms", "still at the end", "median s", "p90 s", "max s"], aside, {1, 2, 3, 4, 5, 6})
    )
    acts = f["actions"]
    out.append("</section><section><h2>Operator actions by origin</h2>")
    rows = [[o, a, n] for o, by in acts["by_action"].items() for a, n in by.items()]
    out.append(_table(["origin", "action", "count"], rows, {2}))
    out.append(f"<p>{acts['failed']} action(s) refused or failed.</p></section></body></html>")
    return "\n".join(out)
