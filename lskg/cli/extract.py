"""Extraction commands: ``lskg extract``, ``lskg evaluate extraction``, ``lskg concepts candidates``,
``lskg fetch openalex``. Each body parses, calls ``lskg.extract``, renders."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from lskg.cli._app import (
    JsonOption,
    StoreOption,
    app,
    concepts_app,
    err,
    evaluate_app,
    fetch_app,
    get_settings,
    out,
    progress_bar,
)

FORMATS = "auto|jsonl|csv|bibtex|ris|text|pdf|review|openalex"


@app.command("extract")
def extract_command(
    path: Annotated[list[Path], typer.Argument(help="Corpus file(s) or folder(s)")],
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"Input format: {FORMATS}")] = "auto",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="JSONL file (default: stdout)")] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="spaCy worker processes")] = 1,
) -> None:
    """Extract facts (models, families, data, landslide types, tasks, metrics, place) as one JSON object per study.

      lskg extract zotero.bib --output facts.jsonl

      lskg extract review.txt --format review
    """
    from lskg.extract import extract_corpus
    from lskg.extract.output import study_record
    from lskg.ontology import concept_index

    problems: list = []
    index = concept_index()
    handle = output.open("w", encoding="utf-8") if output else sys.stdout
    count = 0
    try:
        with progress_bar("extract") as progress:
            for count, item in enumerate(extract_corpus(path, fmt, problems, n_process=workers), 1):
                handle.write(json.dumps(study_record(item, index), ensure_ascii=False) + "\n")
                progress("studies", count, None)
    finally:
        if output:
            handle.close()
    for problem in problems:
        err.print(f"[yellow]skipped:[/] {problem.message}", highlight=False)
    err.print(f"{count} studies extracted, {len(problems)} problems", highlight=False)


@evaluate_app.command("extraction")
def evaluate_extraction_command(
    gold: Annotated[Path, typer.Option("--gold", "-g", help="Gold JSONL (id, text, families, data, "
                                                             "landslide_types, tasks)")],
    json_out: JsonOption = False,
    exact: Annotated[bool, typer.Option("--exact", help="No credit for narrower predictions of a gold concept")]
    = False,
    worst: Annotated[int, typer.Option(help="How many of the worst studies to show")] = 5,
) -> None:
    """Precision, recall and F1 of extraction per facet (micro and macro) against gold annotations."""
    from rich.table import Table

    from lskg.extract.evaluate import REPORTED, evaluate_extraction

    report = evaluate_extraction(gold, hierarchical=not exact)
    if json_out:
        out.print_json(json.dumps(report.to_dict(worst)))
        return
    table = Table("facet", "precision", "recall", "F1 (micro)", "F1 (macro)", "tp", "fp", "fn",
                  title=f"{report.studies} studies of {gold.name}")
    for key in REPORTED:
        c = report.micro[key]
        table.add_row(key, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}", f"{report.macro[key]:.3f}",
                      str(c.tp), str(c.fp), str(c.fn))
    out.print(table)
    for key, labels in report.unresolved.items():
        out.print(f"[yellow]unresolved gold {key}:[/] {', '.join(labels)}", highlight=False)
    for s in report.worst(worst):
        out.print(f"[bold]{s.id}[/] ({s.errors} errors) missed={s.missed} spurious={s.spurious}", highlight=False)


@concepts_app.command("candidates")
def candidates_command(store: StoreOption = None, json_out: JsonOption = False) -> None:
    """Architectures found in texts but not in the ontology, with their assigned families (for review)."""
    from rich.table import Table

    from lskg.kg import open_store

    settings = get_settings(store)
    with open_store(settings.store) as handle:
        rows = handle.select("candidate_concepts")
    records = [{k: (v.value if v is not None else None) for k, v in row.items()} for row in rows]
    if json_out:
        out.print_json(json.dumps(records))
        return
    table = Table("candidate", "families", "studies")
    for r in records:
        table.add_row(r["label"], r["families"] or "", str(r["studies"]))
    out.print(table)


@fetch_app.command("openalex")
def fetch_openalex_command(
    search: Annotated[str, typer.Option("--search", help="OpenAlex full-text search")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="JSONL file to write")],
    from_year: Annotated[int | None, typer.Option("--from-year", help="Earliest publication year")] = None,
    mailto: Annotated[str | None, typer.Option("--mailto", envvar="LSKG_MAILTO",
                                               help="Your e-mail (OpenAlex polite pool)")] = None,
    max_results: Annotated[int | None, typer.Option("--max", min=1, help="Stop after this many works")] = None,
    cache: Annotated[Path | None, typer.Option("--cache", help="Folder caching raw pages")] = Path(".lskg-cache/openalex"),
) -> None:
    """Fetch works from OpenAlex as lskg JSONL (cursor paging, retries with backoff, a local page cache).

      lskg fetch openalex --search "deep learning landslide" --from-year 2018 --out studies.jsonl
    """
    from lskg.extract.readers.openalex import fetch_openalex

    with progress_bar("fetch") as progress:
        written = fetch_openalex(search, out=out_file, from_year=from_year, mailto=mailto,
                                 max_results=max_results, cache_dir=cache, progress=progress)
    err.print(f"{written} works written to {out_file}", highlight=False)
