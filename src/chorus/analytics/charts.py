"""Chart geometry for server-rendered SVG (see docs/decisions.md, "Analytics charts").

The server computes coordinates; templates draw them as SVG whose labels are ordinary text
the browser shapes (Thai and Khmer included), with a table view of the same numbers next
to each chart. No script runs, so the strict Content-Security-Policy stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    points: str  # SVG polyline points, gaps skipped
    dots: tuple[Dot, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    baseline: float
    left: int = LEFT
    right: float = WIDTH - RIGHT
    empty: bool = False

    @property
    def dots_svg(self) -> SafeString:
        """The dots as SVG circles, each titled with its label and value: built here in
        one pass rather than by a template loop (a year has 365 of them per chart)."""
        return format_html_join(
            "",
            '<circle class="dot" cx="{}" cy="{}" r="3"><title>{}</title></circle>',
            ((str(d.x), str(d.y), d.title) for d in self.dots),
        )


def nice_max(value: float) -> float:
    """The axis top: 1, 2, 2.5 or 5 times a power of ten, at least `value`."""
    if value <= 0:
        return 1
    power = 1.0
    while power * 10 <= value:
        power *= 10
    while power > value:
        power /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _fmt(value: float) -> str:
    """A number as the reader's language writes it (grouping, decimal mark)."""
    places = 0 if abs(value) >= 10 or value == int(value) else 1
    return number_format(value, places, force_grouping=True)


def line_chart(
    labels: list[str], values: list[float | None], *, low: float | None = None
) -> LineChart:
    """A line over evenly spaced labels; None values leave a gap (not read yet)."""
    return lines_chart(labels, [("", values)], low=low).lines[0]


@dataclass(frozen=True)
class Lines:
    """Several lines on one scale (one per account); `lines[i].points` is series i."""

    names: tuple[str, ...]
    lines: tuple[LineChart, ...]
    width: int = WIDTH
    height: int = HEIGHT
    empty: bool = False


def lines_chart(
    labels: list[str], series: list[tuple[str, list[float | None]]], *, low: float | None = None
) -> Lines:
    """Lines over evenly spaced labels on one shared scale; None values leave gaps."""
    known = [v for _name, values in series for v in values if v is not None]
    floor = low if low is not None else min([0, *known])
    top = floor + nice_max(max(known, default=0) - floor)
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = inner_w / max(len(labels) - 1, 1)

    def y_of(value: float) -> float:
        return round(TOP + inner_h * (1 - (value - floor) / (top - floor or 1)), 1)

    every = max(1, len(labels) // 7)
    y_ticks = tuple(
        Tick(y_of(floor + (top - floor) * i / 4), _fmt(floor + (top - floor) * i / 4))
        for i in range(5)
    )
    x_ticks = tuple(
        Tick(round(LEFT + i * step, 1), label) for i, label in enumerate(labels) if i % every == 0
    )
    lines = []
    for name, values in series:
        prefix = f"{name}, " if name else ""
        dots = tuple(
            Dot(round(LEFT + i * step, 1), y_of(v), f"{prefix}{labels[i]}: {_fmt(v)}")
            for i, v in enumerate(values)
            if v is not None
        )
        lines.append(
            LineChart(
                width=WIDTH,
                height=HEIGHT,
                points=" ".join(f"{d.x},{d.y}" for d in dots),
                dots=dots,
                y_ticks=y_ticks,
                x_ticks=x_ticks,
                baseline=y_of(floor),
                empty=not dots,
            )
        )
    return Lines(names=tuple(n for n, _v in series), lines=tuple(lines), empty=not known)


@dataclass(frozen=True)
class BarGeometry:
    label: str
    value: float
    y: float
    width: float
    label_y: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: tuple[BarGeometry, ...]
    left: int
    bar_height: int


def bar_chart(
    items: list[tuple[str, float]], *, bar_height: int = 18, width: int = 420
) -> BarChart:
    """Horizontal bars, each labelled above itself (long Thai or Khmer names fit)."""
    top = nice_max(max((v for _, v in items), default=0))
    row = bar_height + 22
    inner = width - 16 - 60
    bars = tuple(
        BarGeometry(
            label=label,
            value=value,
            y=i * row + 18,
            width=round(max(value, 0) * inner / top, 1),
            label_y=i * row + 13,
        )
        for i, (label, value) in enumerate(items)
    )
    return BarChart(
        width=width, height=len(items) * row + 8, bars=bars, left=8, bar_height=bar_height
    )


def heat_level(value: float | None, top: float) -> int:
    """0 (nothing) to 4 (the best cell): the CSS class of a heatmap cell."""
    if not value or top <= 0:
        return 0
    return min(4, 1 + int(3.999 * value / top))
