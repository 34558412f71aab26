"""The round robin's fairness as one server-rendered SVG, for the admin dashboard.

One row per agent: the name, a bar of their share of the bookings with a tick at their
target share (their weight), the numbers in words, and small columns of their bookings per
bucket on a scale shared by every row. No script, no external font or style sheet, and no
``style`` attribute (a ``style-src 'self'`` policy would block it): only presentation
attributes. Every text from the database is escaped.

The SVG has a fixed ``width``/``height`` and a ``viewBox``; to let it shrink on a phone, the
page's style sheet can say ``svg.fairness-chart { max-width: 100%; height: auto; }``.
"""

from __future__ import annotations

import html
import math
import re
from datetime import date
from typing import Sequence

from bot.admin.stats import AgentSeries

WIDTH = 720
ROW = 34  # height of one agent's row
TOP = 100  # where the first row starts
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

# Okabe-Ito blue for bookings, near-black for targets, greys for the tracks: distinguishable
# with every kind of colour blindness and at least 3:1 against white.
BAR = "#0072B2"
TARGET = "#111111"
TRACK = "#E6E6E6"
TEXT = "#1A1A1A"
MUTED = "#555555"

# Columns of the layout (x positions)
NAME_X, NAME_CHARS = 12, 22
BAR_X, BAR_W = 180, 210
NUM_X = 400
SPARK_X, SPARK_W = 590, 118

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _esc(text: object) -> str:
    """Text for XML content or a double-quoted attribute: control characters XML 1.0 forbids
    dropped, & < > " ' escaped."""
    return html.escape(_CONTROL.sub("", str(text)), quote=True)


def _clip(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _pct(x: float) -> str:
    return f"{math.floor(x * 100 + 0.5)} %"


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _day(d: date) -> str:
    return f"{d.day} {d.strftime('%b')} {d.year}"


def _scale_max(series: Sequence[AgentSeries]) -> float:
    """The bars' full width: the largest share or target, rounded up to 10 % (at most 100 %)."""
    top = max([s.share for s in series] + [s.weight_share for s in series] + [0.0])
    return min(1.0, max(0.1, math.ceil(top * 10 - 1e-9) / 10))


def _bucket_word(buckets: Sequence[date]) -> str:
    if len(buckets) >= 2 and (buckets[1] - buckets[0]).days == 1:
        return "day"
    return "week"


def _span(buckets: Sequence[date], word: str | None = None) -> str:
    """The buckets' days in words: "in the weeks of 12 Oct 2026 to 30 Nov 2026"."""
    word = word or _bucket_word(buckets)
    first, last = _day(buckets[0]), _day(buckets[-1])
    if word == "week":
        return f"in the week of {first}" if len(buckets) == 1 else f"in the weeks of {first} to {last}"
    return f"on {first}" if len(buckets) == 1 else f"from {first} to {last}"


def summary(buckets: Sequence[date], series: Sequence[AgentSeries], bucket: str | None = None) -> str:
    """The chart in words, for screen readers (and the SVG's <desc>)."""
    total = sum(s.total for s in series)
    if not series or total == 0:
        head = "No bookings in this period."
    else:
        span = f" {_span(buckets, bucket)}" if buckets else ""
        head = f"{total} booking{'s' if total != 1 else ''}{span}."
    rows = "; ".join(
        f"{s.name} {s.total} booking{'s' if s.total != 1 else ''} ({_pct(s.share)}, target {_pct(s.weight_share)})"
        for s in series
    )
    return f"{head} {rows}." if rows else head


def fairness_svg(
    buckets: list[date],
    series: list[AgentSeries],
    *,
    title: str,
    id_prefix: str = "fairness",
    bucket: str | None = None,
) -> str:
    """An inline SVG of the bookings per agent against their target shares.

    ``buckets``/``series`` are what ``bot.admin.stats.bookings_per_agent`` returns. ``id_prefix``
    keeps the ids of the <title>/<desc> unique when a page shows several charts; ``bucket``
    ("week" or "day") names the columns, guessed from the buckets when not given.
    """
    pid = re.sub(r"[^A-Za-z0-9_-]", "", id_prefix) or "fairness"
    total = sum(s.total for s in series)
    height = TOP + ROW * len(series) + 28 if series else 70
    word = bucket if bucket in ("week", "day") else _bucket_word(buckets)
    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="fairness-chart" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" preserveAspectRatio="xMinYMin meet" role="img" '
        f'aria-labelledby="{pid}-title {pid}-desc" font-family="{_esc(FONT)}" fill="{TEXT}">',
        f'<title id="{pid}-title">{_esc(title)}</title>',
        f'<desc id="{pid}-desc">{_esc(summary(buckets, series, word))}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#FFFFFF"/>',
        f'<text x="{NAME_X}" y="24" font-size="16" font-weight="bold">{_esc(_clip(title, 80))}</text>',
    ]
    if not series or total == 0:
        out.append(f'<text x="{NAME_X}" y="50" font-size="13" fill="{MUTED}">No bookings in this period</text>')
    else:
        span = _span(buckets, word) if buckets else ""
        plural = "" if total == 1 else "s"
        out.append(
            f'<text x="{NAME_X}" y="44" font-size="12" fill="{MUTED}">{total} booking{plural} made'
            f"{' ' + _esc(span) if span else ''}.</text>"
        )
        out.append(
            f'<text x="{NAME_X}" y="60" font-size="12" fill="{MUTED}">Bar: share of bookings. '
            f"Black tick: target share (by weight). Columns: bookings per {word}, same scale.</text>"
        )
    if not series:
        out.append("</svg>")
        return "".join(out)

    # Column headers
    scale = _scale_max(series)
    peak = max((c for s in series for c in s.counts), default=0)
    out += [
        f'<text x="{NAME_X}" y="84" font-size="11" fill="{MUTED}">Agent</text>',
        f'<text x="{BAR_X}" y="84" font-size="11" fill="{MUTED}">Share (0 – {_pct(scale)})</text>',
        f'<text x="{NUM_X}" y="84" font-size="11" fill="{MUTED}">Bookings (share, target)</text>',
        f'<text x="{SPARK_X}" y="84" font-size="11" fill="{MUTED}">Per {word} (max {peak})</text>',
        f'<line x1="{NAME_X}" y1="{TOP - 8}" x2="{WIDTH - 12}" y2="{TOP - 8}" stroke="#CCCCCC" stroke-width="1"/>',
    ]

    n = len(buckets)
    label = "Week of " if word == "week" else ""
    slot = SPARK_W / n if n else SPARK_W
    gap = 1.0 if slot >= 4 else 0.0
    col_w = max(slot - gap, 0.5)
    spark_h = ROW - 10
    for i, s in enumerate(series):
        y = TOP + i * ROW
        bar_y, bar_h = y + 6, 14
        mid = bar_y + bar_h / 2 + 4
        name = _esc(_clip(s.name, NAME_CHARS))
        width = BAR_W * min(s.share / scale, 1.0) if scale else 0.0
        tick = BAR_X + BAR_W * min(s.weight_share / scale, 1.0) if scale else BAR_X
        words = f"{s.total} ({_pct(s.share)}, target {_pct(s.weight_share)})"
        out += [
            "<g>",
            f"<title>{_esc(s.name)}: {_esc(words)}</title>",
            f'<text x="{NAME_X}" y="{_num(mid)}" font-size="13">{name}</text>',
            f'<rect x="{BAR_X}" y="{bar_y}" width="{BAR_W}" height="{bar_h}" fill="{TRACK}"/>',
            f'<rect x="{BAR_X}" y="{bar_y}" width="{_num(width)}" height="{bar_h}" fill="{BAR}"/>',
            # the target tick, with a white halo so it shows on the bar too
            f'<line x1="{_num(tick)}" y1="{bar_y - 4}" x2="{_num(tick)}" y2="{bar_y + bar_h + 4}" '
            f'stroke="#FFFFFF" stroke-width="5"/>',
            f'<line x1="{_num(tick)}" y1="{bar_y - 4}" x2="{_num(tick)}" y2="{bar_y + bar_h + 4}" '
            f'stroke="{TARGET}" stroke-width="2"/>',
            f'<text x="{NUM_X}" y="{_num(mid)}" font-size="12">{_esc(words)}</text>',
            f'<line x1="{SPARK_X}" y1="{y + 4 + spark_h}" x2="{SPARK_X + SPARK_W}" y2="{y + 4 + spark_h}" '
            f'stroke="#BBBBBB" stroke-width="1"/>',
        ]
        for j, (day, count) in enumerate(zip(buckets, s.counts, strict=False)):
            if not count or not peak:
                continue
            h = max(spark_h * count / peak, 1.5)
            out.append(
                f'<rect x="{_num(SPARK_X + j * slot)}" y="{_num(y + 4 + spark_h - h)}" width="{_num(col_w)}" '
                f'height="{_num(h)}" fill="{BAR}"><title>{label}{_esc(_day(day))}: {count}</title></rect>'
            )
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


__all__ = ["fairness_svg", "summary"]
