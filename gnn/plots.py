"""Gap maps: one heatmap of model family x concepts of another facet that shows, in every cell, the observed
study count (the number) and the gap score (the colour: white = well studied or implausible, dark = plausible but
understudied). PNG/SVG by matplotlib; HTML is a self-contained table (no scripts from elsewhere) whose cells show
details on hover.
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
    image = ax.imshow(scores, cmap="OrRd", vmin=0, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=50, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=9)
    ax.set_xticks(np.arange(-0.5, len(cols)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(rows)), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.2)
    ax.tick_params(which="minor", length=0)
    top = set(map(tuple, np.argwhere(scores >= np.sort(scores.ravel())[-min(5, scores.size)]).tolist())) \
        if scores.size and scores.max() > 0 else set()
    for (i, j), n in np.ndenumerate(counts):
        dark = scores[i, j] > 0.55 * vmax
        ax.text(j, i, str(int(n)), ha="center", va="center", fontsize=7.5,
                color="white" if dark else ("#222222" if n else "#999999"),
                fontweight="bold" if (i, j) in top else "normal")
        if (i, j) in top:
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#1f4e9c", linewidth=2))
    bar = fig.colorbar(image, ax=ax, fraction=0.035, pad=0.02)
    bar.set_label("gap score (plausible x understudied)", fontsize=8)
    ax.set_title(_title(matrix, title), fontsize=11, loc="left")
    fig.text(0.01, 0.01, "Numbers: studies observed. Colour: gap score. Blue boxes: the 5 strongest gaps.",
             fontsize=7.5, color="#444444")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    plt.close(fig)
    return buffer.getvalue()


def to_html(matrix: dict[str, Any], *, title: str | None = None) -> str:
    scores = [s for row in matrix["scores"] for s in row]
    vmax = max(scores, default=0.0) or 1e-6
    esc = html.escape
    head = "".join(f'<th class="col"><span>{esc(c["label"])}</span></th>' for c in matrix["cols"])
    body = []
    for r, row in enumerate(matrix["rows"]):
        cells = []
        for c, col in enumerate(matrix["cols"]):
            n, p, g = matrix["counts"][r][c], matrix["plausibility"][r][c], matrix["scores"][r][c]
            shade = g / vmax
            colour = f"rgba(200, 40, 20, {0.08 + 0.85 * shade:.3f})" if g > 0 else "#ffffff"
            tip = (f"{row['label']} x {col['label']}\nstudies observed: {n}\nplausibility: {p:.3f}\n"
                   f"gap score: {g:.3f}")
            cells.append(f'<td style="background:{colour};color:{"#fff" if shade > 0.55 else "#222"}" '
                         f'title="{esc(tip)}" data-n="{n}" data-p="{p:.4f}" data-g="{g:.4f}">{n}</td>')
        body.append(f'<tr><th class="row">{esc(row["label"])}</th>{"".join(cells)}</tr>')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(_title(matrix, title))}</title>
<style>
body{{font:14px system-ui,sans-serif;margin:1.5em;color:#222}}
table{{border-collapse:collapse}} td{{width:2.2em;height:2em;text-align:center;border:1px solid #fff;cursor:default}}
td:hover{{outline:2px solid #1f4e9c}} th.row{{text-align:right;padding-right:.6em;white-space:nowrap;font-weight:500}}
th.col{{height:11em;vertical-align:bottom;font-weight:500}} th.col span{{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}}
#detail{{margin-top:1em;min-height:4.5em;white-space:pre-line;font-family:ui-monospace,monospace}}
</style></head><body>
<h1 style="font-size:1.2em">{esc(_title(matrix, title))}</h1>
<p>Each cell: the number of studies that used the model family with that concept. Colour: gap score
(plausible but understudied; white = none). Hover a cell for details.</p>
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
