"""Inline SVG charts for the HTML report: no script, no external file, readable printed in black and white
(lines are labelled, not only coloured)."""

from __future__ import annotations

from html import escape

W, H, PAD_L, PAD_B, PAD_T, PAD_R = 760, 220, 48, 28, 12, 12


def _frame(body: str, title: str) -> str:
    return (
        f'<svg viewBox="0 0 {W} {H}" width="100%" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">{body}</svg>'
    )


def _axes(ymax: float, unit: str) -> tuple[str, float]:
    """Y axis with 4 ticks; returns the SVG and the scale (pixels per unit)."""
    plot_h = H - PAD_B - PAD_T
    scale = plot_h / ymax if ymax > 0 else 1.0
    out = [f'<line x1="{PAD_L}" y1="{PAD_T}" x2="{PAD_L}" y2="{H - PAD_B}" stroke="#444"/>']
    out.append(f'<line x1="{PAD_L}" y1="{H - PAD_B}" x2="{W - PAD_R}" y2="{H - PAD_B}" stroke="#444"/>')
    for i in range(5):
        v = ymax * i / 4
        y = H - PAD_B - v * scale
        out.append(f'<text x="{PAD_L - 4}" y="{y + 4:.1f}" text-anchor="end">{v:.3g}</text>')
    out.append(f'<text x="4" y="{PAD_T + 8}">{escape(unit)}</text>')
    return "".join(out), scale


def _hline(value: float, scale: float, label: str, colour: str) -> str:
    y = H - PAD_B - value * scale
    return (
        f'<line x1="{PAD_L}" y1="{y:.1f}" x2="{W - PAD_R}" y2="{y:.1f}" stroke="{colour}" stroke-dasharray="6 3"/>'
        f'<text x="{W - PAD_R - 2}" y="{y - 3:.1f}" text-anchor="end" fill="{colour}">{escape(label)}</text>'
    )


def bars(
    values: list[float],
    *,
    title: str,
    unit: str,
    lines: tuple[tuple[float, str, str], ...] = (),
    first_label: str = "",
    last_label: str = "",
) -> str:
    """A bar per value (an hour, a day), with dashed reference lines (value, label, colour)."""
    ymax = max([*values, *(v for v, _, _ in lines), 1.0]) * 1.1
    axes, scale = _axes(ymax, unit)
    n = max(1, len(values))
    step = (W - PAD_L - PAD_R) / n
    parts = [axes]
    for i, v in enumerate(values):
        if v > 0:
            h = v * scale
            x = PAD_L + i * step
            parts.append(
                f'<rect x="{x:.2f}" y="{H - PAD_B - h:.2f}" width="{max(step * 0.85, 0.6):.2f}" '
                f'height="{h:.2f}" fill="#4a6fa5"/>'
            )
    parts += [_hline(v, scale, label, colour) for v, label, colour in lines]
    parts.append(f'<text x="{PAD_L}" y="{H - 8}">{escape(first_label)}</text>')
    parts.append(f'<text x="{W - PAD_R}" y="{H - 8}" text-anchor="end">{escape(last_label)}</text>')
    return _frame("".join(parts), title)


def pareto(labels: list[str], counts: list[int], total: int, *, title: str) -> str:
    """The top alarms as bars (count) with their cumulative share of all alarms as a line (right scale, %)."""
    if not counts:
        return ""
    ymax = max(counts) * 1.1
    axes, scale = _axes(ymax, "alarms")
    step = (W - PAD_L - PAD_R) / len(counts)
    plot_h = H - PAD_B - PAD_T
    parts = [axes]
    points = []
    running = 0
    for i, (label, c) in enumerate(zip(labels, counts, strict=True)):
        x = PAD_L + i * step
        h = c * scale
        parts.append(
            f'<rect x="{x + step * 0.1:.1f}" y="{H - PAD_B - h:.1f}" width="{step * 0.8:.1f}" height="{h:.1f}" '
            f'fill="#4a6fa5"><title>{escape(label)}: {c}</title></rect>'
        )
        parts.append(f'<text x="{x + step / 2:.1f}" y="{H - 14}" text-anchor="middle">{i + 1}</text>')
        running += c
        share = running / total if total else 0.0
        points.append((x + step / 2, H - PAD_B - share * plot_h, share))
    parts.append(
        '<polyline fill="none" stroke="#b35c00" stroke-width="2" points="'
        + " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        + '"/>'
    )
    for x, y, _share in points:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#b35c00"/>')
    x, y, share = points[-1]
    parts.append(f'<text x="{x:.1f}" y="{y - 6:.1f}" text-anchor="end" fill="#b35c00">cumulative {share:.1%}</text>')
    return _frame("".join(parts), title)


def line(
    values: list[float],
    *,
    title: str,
    unit: str,
    lines: tuple[tuple[float, str, str], ...] = (),
    first_label: str = "",
    last_label: str = "",
    second: list[float] | None = None,
) -> str:
    """A series over time (standing alarms, with stale ones as a second, dotted, series)."""
    ymax = max([*values, *(second or []), *(v for v, _, _ in lines), 1.0]) * 1.1
    axes, scale = _axes(ymax, unit)
    n = max(2, len(values))
    step = (W - PAD_L - PAD_R) / (n - 1)

    def poly(vs: list[float], style: str) -> str:
        pts = " ".join(f"{PAD_L + i * step:.1f},{H - PAD_B - v * scale:.1f}" for i, v in enumerate(vs))
        return f'<polyline fill="none" {style} points="{pts}"/>'

    parts = [axes, poly(values, 'stroke="#4a6fa5" stroke-width="1.5"')]
    if second:
        parts.append(poly(second, 'stroke="#cf222e" stroke-width="1.5" stroke-dasharray="2 2"'))
    parts += [_hline(v, scale, label, colour) for v, label, colour in lines]
    parts.append(f'<text x="{PAD_L}" y="{H - 8}">{escape(first_label)}</text>')
    parts.append(f'<text x="{W - PAD_R}" y="{H - 8}" text-anchor="end">{escape(last_label)}</text>')
    return _frame("".join(parts), title)
