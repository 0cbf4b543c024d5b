"""Synthesis tables: the review's Table 1 regenerated from study-level evidence. For each model family (or
architecture), the data sources, landslide types and tasks studies used it with, each with its study count and
citations, as Markdown, CSV, LaTeX or HTML (each escaped for its format).
"""

from __future__ import annotations

import csv
import html
import io
from typing import Any

import numpy as np

from lskg.errors import ConfigError
from lskg.gnn.snapshot import CONTEXT_FACETS, Snapshot
from lskg.records import Facet

FORMATS = ("md", "csv", "latex", "html")
ROWS = ("family", "architecture")
HEADERS = {"family": "Model family", "architecture": "Architecture", "data": "Data sources",
           "landslide_type": "Landslide types", "task": "Tasks"}
PER_CELL, CITATIONS = 8, 4


def synthesis(snap: Snapshot, rows: str = "family", cols: tuple[str, ...] = CONTEXT_FACETS) -> list[dict[str, Any]]:
    if rows not in ROWS:
        raise ConfigError(f"cannot make table rows of {rows!r}", hint="rows: family or architecture")
    known: dict[str, Facet] = {f: f for f in CONTEXT_FACETS}
    bad = [c for c in cols if c not in known]
    if bad or not cols:
        raise ConfigError(f"cannot make table columns of {','.join(bad) or 'nothing'}",
                          hint="columns: data, landslide_type, task (comma-separated)")
    facets = tuple(known[c] for c in cols)
    out = []
    for m in snap.level_indices(rows):
        users = np.flatnonzero(snap.incidence[:, snap.columns[("model", int(m))]] > 0)
        if len(users) == 0:
            continue
        cells = {}
        for facet in facets:
            by_concept: dict[int, list[int]] = {}
            for n in users:
                for i in snap.facts[facet][n]:
                    by_concept.setdefault(i, []).append(int(n))
            ranked = sorted(by_concept.items(), key=lambda kv: (-len(kv[1]), snap.concepts[facet].labels[kv[0]]))
            cells[facet] = [{"iri": snap.concepts[facet].iris[i], "label": snap.concepts[facet].labels[i],
                             "studies": len(ns),
                             "citations": [snap.studies[n].citation for n in
                                           sorted(ns, key=lambda n: (snap.studies[n].year or 0, n))]}
                            for i, ns in ranked[:PER_CELL]]
        out.append({"iri": snap.model.iris[int(m)], "label": snap.model.labels[int(m)], "studies": len(users),
                    "cells": cells})
    return sorted(out, key=lambda r: (-r["studies"], r["label"]))


def _cell_text(items: list[dict[str, Any]]) -> str:
    parts = []
    for it in items:
        cites = "; ".join(it["citations"][:CITATIONS])
        more = f"; +{len(it['citations']) - CITATIONS} more" if len(it["citations"]) > CITATIONS else ""
        parts.append(f"{it['label']} ({it['studies']}: {cites}{more})")
    return "; ".join(parts) if parts else "-"


_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
          "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    return "".join(_LATEX.get(ch, ch) for ch in text)


def md_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render(table: list[dict[str, Any]], rows: str, cols: tuple[str, ...], fmt: str) -> str:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown table format {fmt!r}", hint="use " + ", ".join(FORMATS))
    header = [HEADERS[rows], "Studies", *(HEADERS[c] for c in cols)]
    lines = [[r["label"], str(r["studies"]), *(_cell_text(r["cells"][c]) for c in cols)] for r in table]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(lines)
        return buffer.getvalue()
    if fmt == "md":
        rows_md = ["| " + " | ".join(md_escape(x) for x in line) + " |" for line in lines]
        return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *rows_md]) + "\n"
    if fmt == "latex":
        spec = "l r " + " ".join(["p{0.25\\linewidth}"] * len(cols))
        body = [" & ".join(latex_escape(x) for x in line) + r" \\" for line in lines]
        return "\n".join([rf"\begin{{tabular}}{{{spec}}}", r"\hline", " & ".join(header) + r" \\", r"\hline",
                          *body, r"\hline", r"\end{tabular}"]) + "\n"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    rows_html = "".join("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in line) + "</tr>\n" for line in lines)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{rows_html}</tbody>\n</table>\n"
