"""Gap maps: one heatmap of model family x concepts of another facet that shows, in every cell, the observed
study count (the number) and the gap score (the colour, on a sequential scale drawn beside the map: pale = weak
gap, dark red = strong gap). The strongest gaps are outlined and numbered by rank (ties broken by Adamic-Adar,
then preferential attachment); cells that are not gaps are drawn differently: ``unknown`` (too few studies to
judge) hatched grey with "?", ``implausible`` (the family cannot take the data) grey with a cross, ``studied``
white. PNG/SVG by matplotlib; HTML is a self-contained page (no scripts from elsewhere) whose cells show their
evidence on hover (title and a detail panel).
"""

from __future__ import annotations

import html
import io
from typing import Any

FACET_TITLES = {"data": "data source", "landslide_type": "landslide type", "task": "task", "model": "model family"}


def render(matrix: dict[str, Any], fmt: str, *, title: str | None = None) -> bytes:
    if fmt == "html":
        return to_html(matrix, title=title).encode()
    if fmt in ("png", "svg"):
        return to_image(matrix, fmt, title=title)
    from lskg.errors import ConfigError

    raise ConfigError(f"unknown gap-map format {fmt!r}", hint="use png, svg, html or json")


def _title(matrix: dict[str, Any], title: str | None) -> str:
    facet = matrix["cols"][0]["facet"] if matrix["cols"] else "data"
    return title or f"Research gaps: model family x {FACET_TITLES.get(facet, facet)}"


STOPS = ((0.0, (254, 240, 217)), (0.5, (252, 141, 89)), (1.0, (179, 0, 0)))
"""The sequential gap-score scale (ColorBrewer OrRd end points): pale orange for the weakest gap, dark red for
the strongest."""
UNKNOWN, IMPLAUSIBLE, STUDIED = "#d9d9d9", "#efefef", "#ffffff"


def colour(value: float) -> str:
    """The scale's colour of a gap score scaled to [0, 1]."""
    value = min(max(value, 0.0), 1.0)
    for (x0, c0), (x1, c1) in zip(STOPS, STOPS[1:], strict=False):
        if value <= x1:
            t = (value - x0) / (x1 - x0)
            return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(c0, c1, strict=True))
    return "#" + "".join(f"{v:02x}" for v in STOPS[-1][1])


def _status(matrix: dict[str, Any], r: int, c: int) -> str:
    status = matrix.get("status")
    if status:
        return status[r][c]
    return "gap" if matrix["scores"][r][c] > 0 else "studied"


def to_image(matrix: dict[str, Any], fmt: str, *, title: str | None = None) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    counts = np.array(matrix["counts"], dtype=float).reshape(len(matrix["rows"]), len(matrix["cols"]))
    scores = np.array(matrix["scores"], dtype=float).reshape(counts.shape)
    rows = [r["label"] for r in matrix["rows"]]
    cols = [c["label"] for c in matrix["cols"]]
    width = max(6.0, 0.42 * len(cols) + 3.5)
    height = max(3.5, 0.5 * len(rows) + 2.8)
    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
    vmax = max(float(scores.max()) if scores.size else 0.0, 1e-6)
    status = np.array([[_status(matrix, r, c) for c in range(len(cols))] for r in range(len(rows))], dtype=object)
    shown = np.ma.masked_where(status != "gap", scores)
    cmap = matplotlib.colors.LinearSegmentedColormap.from_list(
        "gap", [(x, tuple(v / 255 for v in rgb)) for x, rgb in STOPS]).with_extremes(bad=STUDIED)
    image = ax.imshow(shown, cmap=cmap, vmin=0, vmax=vmax, aspect="auto")
    for (i, j), st in np.ndenumerate(status):
        if st == "unknown":
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=UNKNOWN, edgecolor="#999999",
                                       hatch="////", linewidth=0))
        elif st == "implausible":
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=IMPLAUSIBLE, linewidth=0))
    ax.set_xticks(range(len(cols)), cols, rotation=50, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=9)
    ax.set_xticks(np.arange(-0.5, len(cols)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(rows)), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.2)
    ax.tick_params(which="minor", length=0)
    rank = np.array(matrix.get("rank") or np.zeros(counts.shape), dtype=int).reshape(counts.shape)
    strongest = np.array(matrix.get("strongest") or (rank > 0) & (rank <= 5), dtype=bool).reshape(counts.shape)
    for (i, j), n in np.ndenumerate(counts):
        st = status[i, j]
        dark = st == "gap" and scores[i, j] > 0.55 * vmax
        text = "?" if st == "unknown" else ("\u00d7" if st == "implausible" else str(int(n)))
        ax.text(j, i, text, ha="center", va="center", fontsize=7.5,
                color="white" if dark else ("#222222" if st in ("gap", "studied") else "#777777"),
                fontweight="bold" if strongest[i, j] else "normal")
        if strongest[i, j]:
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#1f4e9c", linewidth=2))
            ax.text(j + 0.45, i - 0.45, f"#{rank[i, j]}", ha="right", va="top", fontsize=5.5, color="#1f4e9c")
    bar = fig.colorbar(image, ax=ax, fraction=0.035, pad=0.02)
    bar.set_label("gap score (plausible x understudied)", fontsize=8)
    ax.set_title(_title(matrix, title), fontsize=11, loc="left")
    fig.text(0.01, 0.01, "Numbers: studies observed. Colour: gap score. Blue boxes: the strongest gaps (#rank). "
             "Hatched ?: unknown (too few studies). \u00d7: implausible for the family. White: already studied.",
             fontsize=7, color="#444444")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    plt.close(fig)
    return buffer.getvalue()


def to_html(matrix: dict[str, Any], *, title: str | None = None) -> str:
    esc = html.escape
    gaps = [matrix["scores"][r][c] for r in range(len(matrix["rows"])) for c in range(len(matrix["cols"]))
            if _status(matrix, r, c) == "gap"]
    vmax = max(gaps, default=0.0) or 1e-6
    vmin = 0.0
    head = "".join(f'<th class="col"><span>{esc(c["label"])}</span></th>' for c in matrix["cols"])
    body = []
    for r, row in enumerate(matrix["rows"]):
        cells = []
        for c, col in enumerate(matrix["cols"]):
            n, p, g = matrix["counts"][r][c], matrix["plausibility"][r][c], matrix["scores"][r][c]
            st = _status(matrix, r, c)
            rank = (matrix.get("rank") or [[0] * len(matrix["cols"])] * len(matrix["rows"]))[r][c]
            strong = bool((matrix.get("strongest") or [[False] * len(matrix["cols"])] * len(matrix["rows"]))[r][c])
            evidence = (matrix.get("evidence") or [[[]] * len(matrix["cols"])] * len(matrix["rows"]))[r][c]
            lines = [f"{row['label']} x {col['label']}", f"status: {st}" + (f" (gap #{rank})" if rank else ""),
                     f"studies observed: {n}"]
            if st == "gap":
                lines += [f"gap score: {g:.3f}", f"plausibility: {p:.3f}"]
            lines += [f"- {e}" for e in evidence]
            tip = "\n".join(lines)
            if st == "gap":
                shade = (g - vmin) / (vmax - vmin)
                style = f"background:{colour(shade)};color:{'#fff' if shade > 0.6 else '#222'}"
                text = str(n)
            elif st == "unknown":
                style, text = "", "?"
            elif st == "implausible":
                style, text = "", "&times;"
            else:
                style, text = f"background:{STUDIED}", str(n)
            badge = f'<sup class="rank">#{rank}</sup>' if strong else ""
            cells.append(f'<td class="{st}{" strongest" if strong else ""}" style="{style}" title="{esc(tip)}" '
                         f'data-status="{st}" data-n="{n}" data-p="{p:.4f}" data-g="{g:.4f}" data-rank="{rank}">'
                         f"{text}{badge}</td>")
        body.append(f'<tr><th class="row">{esc(row["label"])}</th>{"".join(cells)}</tr>')
    stops = ", ".join(f"{colour(x)} {x * 100:.0f}%" for x in (0.0, 0.25, 0.5, 0.75, 1.0))
    ticks = "".join(f'<span class="tick">{vmin + (vmax - vmin) * x:.2f}</span>' for x in (0.0, 0.25, 0.5, 0.75, 1.0))
    minimum = matrix.get("min_studies", 3)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(_title(matrix, title))}</title>
<style>
body{{font:14px system-ui,sans-serif;margin:1.5em;color:#222}}
table{{border-collapse:collapse}} td{{width:2.4em;height:2em;text-align:center;border:1px solid #fff;cursor:default;position:relative}}
td:hover{{outline:2px solid #1f4e9c}} th.row{{text-align:right;padding-right:.6em;white-space:nowrap;font-weight:500}}
th.col{{height:11em;vertical-align:bottom;font-weight:500}} th.col span{{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}}
td.unknown{{background:repeating-linear-gradient(45deg,{UNKNOWN},{UNKNOWN} 3px,#f4f4f4 3px,#f4f4f4 6px);color:#666}}
td.implausible{{background:{IMPLAUSIBLE};color:#999}} td.studied{{color:#555}}
td.strongest{{outline:2px solid #1f4e9c;outline-offset:-2px;font-weight:700}}
sup.rank{{position:absolute;top:0;right:1px;font-size:.6em;color:#1f4e9c}}
#scale{{display:flex;align-items:center;gap:.8em;margin:.8em 0}}
#scale .bar{{width:16em;height:.9em;background:linear-gradient(to right, {stops});border:1px solid #ccc}}
#scale .ticks{{display:flex;justify-content:space-between;width:16em;font-size:.75em}}
.key{{display:inline-block;width:1.2em;height:1em;vertical-align:middle;border:1px solid #ccc;margin-right:.3em}}
#detail{{margin-top:1em;min-height:6em;white-space:pre-line;font-family:ui-monospace,monospace;max-width:60em}}
</style></head><body>
<h1 style="font-size:1.2em">{esc(_title(matrix, title))}</h1>
<p>Each cell: the number of studies that used the model family with that concept. Colour: gap score (how likely
the combination is to be studied next, discounted by the studies it already has). Hover a cell for its evidence.</p>
<div id="scale" role="img" aria-label="colour scale of the gap score from {vmin:.2f} to {vmax:.2f}">
<span>gap score</span><div><div class="bar" data-min="{vmin:.4f}" data-max="{vmax:.4f}"></div><div class="ticks">{ticks}</div></div>
<span><span class="key" style="outline:2px solid #1f4e9c"></span>strongest gaps (#rank, ties broken by Adamic-Adar)</span>
<span><span class="key unknown" style="background:repeating-linear-gradient(45deg,{UNKNOWN},{UNKNOWN} 3px,#f4f4f4 3px,#f4f4f4 6px)"></span>? unknown: fewer than {minimum} studies to judge</span>
<span><span class="key" style="background:{IMPLAUSIBLE}"></span>&times; implausible for the family</span>
<span><span class="key" style="background:{STUDIED}"></span>already studied</span>
</div>
<table><thead><tr><th></th>{head}</tr></thead><tbody>
{chr(10).join(body)}
</tbody></table>
<div id="detail" aria-live="polite"></div>
<script>
document.querySelectorAll("td[title]").forEach(function (td) {{
  td.addEventListener("mouseenter", function () {{ document.getElementById("detail").textContent = td.title; }});
}});
</script>
</body></html>
"""
