"""Core commands: build, add, query, validate, stats, export, queries, concepts list."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from lskg.cli._app import (
    EXIT_CHECK_FAILED,
    JsonOption,
    StoreOption,
    app,
    concepts_app,
    err,
    get_settings,
    out,
    progress_bar,
)
from lskg.errors import QueryError
from lskg.records import FACETS
from lskg.settings import Settings


def _formats() -> str:
    """The input formats, from the reader registry (so a new reader shows in --help)."""
    from lskg.extract.readers import formats

    return ", ".join(formats())


FORMATS = _formats()
WaitOption = Annotated[float, typer.Option(
    "--wait", metavar="SECONDS", min=0,
    help="If another build, add or update-enabled server holds the store, wait this long for it (default: fail at once)")]
WorkersOption = Annotated[int | None, typer.Option(
    "--workers", metavar="N", min=1,
    help="Extract in N processes (default: LSKG_EXTRACT_WORKERS, else 2, or 1 on a single core)")]


def _print_problems(problems: list[str], limit: int | None = 20) -> None:
    """The records and files that were skipped: printed before the summary, so they are not missed."""
    for problem in problems[:limit]:
        err.print(f"[yellow]skipped:[/] {problem}", highlight=False)
    if limit is not None and len(problems) > limit:
        err.print(f"[yellow]... and {len(problems) - limit} more problems[/]")


@app.command()
def build(
    corpus: Annotated[list[Path] | None, typer.Option("--corpus", "-c", help="Corpus file or folder (repeatable). "
                                                      "Default: the embedded corpus of the seed review's studies")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"Input format: {FORMATS}")] = "auto",
    store: StoreOption = None,
    no_validate: Annotated[bool, typer.Option("--no-validate", help="Skip the SHACL check")] = False,
    json_out: JsonOption = False,
    wait: WaitOption = 0,
    train: Annotated[bool, typer.Option("--train/--no-train", help="Fit the configured recommender on the new graph "
                                        "(seconds), so the first recommendation needs no training")] = True,
    workers: WorkersOption = None,
) -> None:
    """Build the knowledge graph from a corpus, replacing the previous graph only if the build succeeds.

    Examples:

      lskg build

      lskg build --corpus scopus.csv --corpus zotero.bib --store ./my-store

      lskg build --corpus review.txt --format review

      lskg build --corpus scopus.csv --workers 4

    A build that reads no study (a missing, empty or unreadable file) fails with exit code 3 and keeps the
    previous graph. One writer at a time: a second build or add fails at once, unless --wait is given.
    """
    from lskg.build import build as run_build

    settings = get_settings(store, extract_workers=workers)
    with progress_bar("build") as progress:
        report = run_build(corpus, settings, fmt=fmt, check=not no_validate, progress=progress, wait=wait)
    _print_problems(report.problems)
    if json_out:
        data = json.loads(report.to_json())
        if train:
            data["recommender"] = _train_default(settings, say=False)
        out.print_json(json.dumps(data))
        return
    table = Table(title=f"built {settings.store}", show_header=False)
    table.add_row("sources", ", ".join(report.sources))
    table.add_row("studies", f"{report.studies} ({report.duplicates_merged} duplicates merged)")
    if report.method_references:
        table.add_row("general method references", str(report.method_references))
    for facet, n in sorted(report.facts.items()):
        table.add_row(f"facts: {facet}", str(n))
    table.add_row("metrics", str(report.metrics))
    table.add_row("candidate concepts", str(report.candidates))
    table.add_row("quads", str(report.quads))
    table.add_row("SHACL", report.validation.summary() if report.validation else "skipped")
    out.print(table)
    out.print(f"built in {report.timings()}", highlight=False)
    if train:
        _train_default(settings)


def _train_default(settings: Settings, *, say: bool = True) -> str:
    """Fit the configured recommender for the graph just built; say (and return) which one it is and why."""
    from lskg.gnn.train import train_for_store
    from lskg.kg import open_store

    with open_store(settings.store, update_url=settings.update_url, gsp_url=settings.gsp_url) as handle, \
            progress_bar("train") as progress:
        model = train_for_store(handle, settings, progress, recommender=settings.recommender)
    if say:
        err.print(model.sentence, markup=False)
    return model.sentence


@app.command()
def add(
    paths: Annotated[list[Path] | None, typer.Argument(help="Corpus files to add or update")] = None,
    corpus: Annotated[list[Path] | None, typer.Option("--corpus", "-c", help="Corpus file (repeatable; the same "
                                                      "as giving it as an argument, as in `lskg build`)")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"Input format: {FORMATS}")] = "auto",
    store: StoreOption = None,
    wait: WaitOption = 0,
    workers: WorkersOption = None,
) -> None:
    """Add studies to the existing graph, or replace them if already there (matched by DOI, else title+year).

    The graph is changed as a copy that replaces it once complete: a running server switches to it between
    requests. A missing file, or files with no readable study, fail with exit code 3 and change nothing.
    """
    from lskg.build import ingest
    from lskg.errors import InputError

    paths = [*(paths or []), *(corpus or [])]
    if not paths:
        raise InputError("no corpus given", hint="name the files: lskg add new.bib (or --corpus new.bib)")
    settings = get_settings(store, extract_workers=workers)
    with progress_bar("add") as progress:
        report = ingest(paths, settings, fmt=fmt, progress=progress, wait=wait)
    _print_problems(report.problems, limit=None)
    out.print(f"{report.studies} studies added or replaced in {settings.store}")


def _parse_params(params: list[str], query_name: str | None) -> dict[str, Any]:
    from lskg.kg.queries import named_query
    from lskg.kg.read import STUDY_FILTERS, resolve_many

    declared = named_query(query_name).params if query_name else {}
    values: dict[str, list[Any]] = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep:
            raise QueryError(f"--param {item!r} is not key=value")
        param = declared.get(key)
        if param is not None and param.kind == "iri" and not value.startswith(("http://", "https://")):
            facet = STUDY_FILTERS.get(key)
            values.setdefault(key, []).extend(resolve_many([value], facet))
            continue
        values.setdefault(key, []).append(value)
    return values


@app.command()
def query(
    sparql: Annotated[str, typer.Argument(help="SPARQL text, a .rq file, or the name of a named query (see `lskg queries`)")],
    param: Annotated[list[str] | None, typer.Option("--param", "-p", help="key=value for a named query; "
                                                    "concept parameters take labels ('InSAR') or IRIs")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table|json|csv|tsv (SELECT/ASK); turtle|ntriples (CONSTRUCT)")] = "table",
    store: StoreOption = None,
) -> None:
    """Run a SPARQL query. Prefixes lskg:, skos:, dcterms:, prov:, model:, data:, ... are predeclared.

    Examples:

      lskg query 'SELECT ?s ?title WHERE { ?s a lskg:Study ; dcterms:title ?title } LIMIT 5'

      lskg query models_for_context -p data=InSAR -p landslide_type=creeping

      lskg query my-query.rq --format csv
    """
    import pyoxigraph as ox

    from lskg.kg import open_store
    from lskg.kg.queries import list_queries, prepare

    path = Path(sparql)
    if sparql.endswith(".rq") and path.exists():
        text, name = path.read_text(encoding="utf-8"), None
    elif sparql in list_queries():
        text, name = sparql, sparql
    else:
        text, name = sparql, None
    prepared = prepare(text, _parse_params(param or [], name))
    settings = get_settings(store)
    with open_store(settings) as handle:
        result = handle.query(prepared)
        if isinstance(result, ox.QuerySolutions):
            _print_solutions(result, fmt)
        elif isinstance(result, ox.QueryBoolean):
            out.print("true" if bool(result) else "false")
        else:
            rdf = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES}.get(fmt, ox.RdfFormat.TURTLE)
            sys.stdout.buffer.write(ox.serialize(list(result), format=rdf) or b"")


def _print_solutions(result: Any, fmt: str) -> None:
    import pyoxigraph as ox

    formats = {"json": ox.QueryResultsFormat.JSON, "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}
    if fmt in formats:
        sys.stdout.buffer.write(result.serialize(format=formats[fmt]))
        sys.stdout.flush()
        return
    if fmt != "table":
        raise QueryError(f"unknown --format {fmt!r}", hint="use table, json, csv or tsv")
    names = [v.value for v in result.variables]
    table = Table(*names)
    rows = 0
    for solution in result:
        table.add_row(*(_show(solution[n]) for n in names))
        rows += 1
    out.print(table)
    err.print(f"{rows} row(s)")


def _show(term: Any) -> str:
    if term is None:
        return ""
    from lskg.ontology import concept_index

    value = term.value
    return concept_index().label(value) if value in concept_index() else value


@app.command()
def validate(store: StoreOption = None, json_out: JsonOption = False) -> None:
    """Check the graph against the SHACL shapes (exit 0 conforms, 1 does not)."""
    import json

    from lskg.kg import open_store
    from lskg.kg.validate import validate as run_validate

    settings = get_settings(store)
    with open_store(settings) as handle:
        report = run_validate(handle)
    if json_out:
        out.print_json(json.dumps({"conforms": report.conforms, "triples": report.triples,
                                   "violations": [v.__dict__ for v in report.violations]}))
    else:
        out.print(report.summary(), highlight=False)
    if not report.conforms:
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command()
def stats(store: StoreOption = None, json_out: JsonOption = False) -> None:
    """Size of the graph, and the most studied concepts per facet (the same record as the API's /stats)."""
    import dataclasses
    import json

    from lskg.kg import open_store
    from lskg.kg.read import stats as read_stats

    settings = get_settings(store)
    with open_store(settings) as handle:
        record = read_stats(handle)
    if json_out:
        out.print_json(json.dumps(dataclasses.asdict(record)))
        return
    table = Table("what", "count", title=f"graph at {settings.store}")
    for key in ("studies", "method_references", "facts", "evidence", "metrics", "candidates", "quads",
                "named_graphs"):
        table.add_row(key.replace("_", " "), str(getattr(record, key)))
    for facet, n in record.concepts.items():
        table.add_row(f"concepts: {facet}", f"{record.used_concepts[facet]} used of {n}")
    out.print(table)
    for facet, items in record.top.items():
        if items:
            out.print(f"[bold]{facet}[/]: " + ", ".join(f"{c.label} ({c.studies})" for c in items[:8]))


ConceptOption = Annotated[list[str] | None, typer.Option(
    help="Concept labels or IRIs, comma-separated or repeated; narrower concepts match too")]


@app.command()
def studies(
    model: ConceptOption = None,
    data: ConceptOption = None,
    landslide_type: ConceptOption = None,
    task: ConceptOption = None,
    family: ConceptOption = None,
    year: Annotated[list[int] | None, typer.Option(help="Publication year (repeatable)")] = None,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 50,
    store: StoreOption = None,
    json_out: JsonOption = False,
) -> None:
    """List studies matching every given filter, newest first (the same function as the API's /studies).

    Example: lskg studies --data InSAR --landslide-type creeping
    """
    import dataclasses
    import json

    from lskg.kg import open_store
    from lskg.kg.read import STUDY_FILTERS, resolve_many
    from lskg.kg.read import studies as read_studies

    given = {"model": model, "data": data, "landslide_type": landslide_type, "task": task, "family": family}
    filters: dict[str, list[str | int]] = {k: list(resolve_many(v, STUDY_FILTERS[k])) for k, v in given.items() if v}
    if year:
        filters["year"] = list(year)
    settings = get_settings(store)
    with open_store(settings) as handle:
        page = read_studies(handle, filters, offset=offset, limit=limit)
    if json_out:
        out.print_json(json.dumps(dataclasses.asdict(page)))
        return
    table = Table("year", "title", "iri", title=f"{page.total} studies")
    for item in page.items:
        table.add_row(str(item.year or ""), item.title, item.iri)
    out.print(table)
    if page.total > offset + len(page.items):
        err.print(f"showing {offset + 1}-{offset + len(page.items)} of {page.total}; use --offset/--limit for more")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A plain-English question, e.g. 'which studies use LSTM'")],
    store: StoreOption = None,
    json_out: JsonOption = False,
    show_sparql: Annotated[bool, typer.Option("--sparql", help="Print the SPARQL query that was run")] = False,
) -> None:
    """Answer a plain-English question with a SPARQL query (the same function as the API's /ask).

    Examples:

      lskg ask "which models use InSAR for creeping landslides"

      lskg ask "how many studies use LSTM"

      lskg ask "what does the review's Table 1 say for debris flows"
    """
    import json

    from lskg.kg import open_store
    from lskg.kg.read import answer_json
    from lskg.kg.read import ask as read_ask

    settings = get_settings(store)
    with open_store(settings) as handle:
        answer = read_ask(handle, question)
    if json_out:
        out.print_json(json.dumps(answer_json(answer)))
        return
    if answer.rows:
        table = Table(*answer.columns)
        for row in answer.rows[:50]:
            table.add_row(*(_short(row.get(c)) for c in answer.columns))
        out.print(table)
    if show_sparql and answer.sparql:
        out.print(answer.sparql, highlight=False, markup=False)
    err.print(answer.message, highlight=False, markup=False)


def _short(value: str | None) -> str:
    from lskg.ontology import concept_index

    if value is None:
        return ""
    if value in concept_index():
        return concept_index().label(value)
    return value if len(value) <= 160 else value[:157] + "..."


@app.command()
def export(
    fmt: Annotated[str, typer.Option("--format", help="ttl|nt|nq|trig|jsonld")] = "nq",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout)")] = None,
    store: StoreOption = None,
) -> None:
    """Export the graph: N-Quads/TriG/JSON-LD keep the named graphs; Turtle/N-Triples give the union."""
    import pyoxigraph as ox

    from lskg.kg import open_store

    formats = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS,
               "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD}
    if fmt not in formats:
        raise QueryError(f"unknown export format {fmt!r}", hint="use one of " + ", ".join(formats))
    settings = get_settings(store)
    with open_store(settings) as handle:
        data = handle.dump(formats[fmt])
    if output:
        output.write_bytes(data)
        err.print(f"wrote {len(data)} bytes to {output}")
    else:
        sys.stdout.buffer.write(data)


@app.command("queries")
def list_named_queries() -> None:
    """List the named queries with their parameters (use them with `lskg query NAME -p key=value`)."""
    from lskg.kg.queries import list_queries, named_query

    table = Table("name", "parameters", "summary")
    for name in list_queries():
        q = named_query(name)
        params = ", ".join(f"{p.name}{'?' if p.optional else ''}" for p in q.params.values())
        table.add_row(name, params, q.summary)
    out.print(table)


@concepts_app.command("list")
def list_concepts(
    facet: Annotated[str | None, typer.Option(help="model|data|landslide_type|task")] = None,
    json_out: JsonOption = False,
) -> None:
    """List the ontology's concepts with their labels and parents."""
    import json

    from lskg.ontology import concept_index

    index = concept_index()
    if facet is not None and facet not in FACETS:
        raise QueryError(f"unknown facet {facet!r}", hint="use one of " + ", ".join(FACETS))
    concepts = [c for c in index.concepts.values() if facet is None or c.facet == facet]
    if json_out:
        out.print_json(json.dumps([{"iri": c.iri, "label": c.pref_label, "facet": c.facet,
                                    "alt_labels": list(c.alt_labels), "broader": list(c.broader)} for c in concepts]))
        return
    table = Table("facet", "label", "also", "broader")
    for c in sorted(concepts, key=lambda c: (c.facet, c.pref_label.lower())):
        table.add_row(c.facet, c.pref_label, ", ".join(c.alt_labels[:4]), ", ".join(index.label(b) for b in c.broader))
    out.print(table)
