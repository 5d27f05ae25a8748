"""The readable summary ``wallctl report`` prints when no --json or --html is given."""

from __future__ import annotations

from typing import Any


def summary(f: dict[str, Any], *, journal: str) -> str:
    lines = [
        f"alarm-system performance, {f['from']} .. {f['to']} ({journal})",
        f"  {f['alarms']} annunciated alarms ({f['raised']} raised) from {f['history_rows']} transitions",
        "",
    ]
    width = max(len(v["measure"]) for v in f["verdicts"])
    for v in f["verdicts"]:
        verdict = "informative" if v["met"] is None else ("met" if v["met"] else "NOT MET")
        lines.append(f"  {v['measure']:<{width}}  {v['value']!s:>14}  target {v['target']:<30} {verdict}")
    if f["top10"]:
        lines += ["", "  top alarms:"]
        lines += [f"    {t['count']:>7}  {t['share']:>6.1%}  {t['source']}/{t['type']}" for t in f["top10"]]
    if f["floods"]:
        lines += ["", f"  floods ({f['flood_count']}):"]
        lines += [
            f"    {fl['start']} .. {fl['end']}  peak {fl['peak_per_10min']} / 10 min, {fl['alarms']} alarms"
            for fl in f["floods"][:10]
        ]
    if f["chattering"]:
        lines += ["", "  chattering:"]
        lines += [f"    {c['transitions']:>7} transitions  {c['source']}/{c['type']}" for c in f["chattering"][:10]]
    return "\n".join(lines)
