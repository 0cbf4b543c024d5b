"""Recommender commands: train, recommend, gaps, table, evaluate recommend. Torch is imported inside the commands
that need it, so ``lskg query`` never loads it."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from lskg.cli._app import JsonOption, StoreOption, app, err, evaluate_app, get_settings, out, progress_bar
from lskg.errors import ConfigError

if TYPE_CHECKING:
    from lskg.kg.store import Store
    from lskg.records import EvaluationReport, GapBacktest, GapMethod, Recommendation
    from lskg.settings import Settings


def _open(settings: Settings, *, write: bool = False) -> Store:
    from lskg.kg import open_store

    return open_store(settings, write=write)


def _split(values: list[str] | None) -> list[str]:
    """The one list separator of concept options (``--data InSAR,GNSS``), as in `lskg studies` and the API."""
    from lskg.kg.read import split_values

    return split_values(values)


@app.command("train")
def train_cmd(
    store: StoreOption = None,
    recommender: Annotated[str, typer.Option(help="auto (evaluate, then keep a graph model (gnn, hybrid) only if it wins) or a "
                                                  "registered name: gnn, cooccurrence, knn, mf, ...")] = "auto",
    seeds: Annotated[int, typer.Option(help="Seeds of the selecting evaluation")] = 3,
    split_year: Annotated[int | None, typer.Option("--split-year", help="Temporal split year (default: ~20 % "
                                                                        "of studies after it)")] = None,
    json_out: JsonOption = False,
) -> None:
    """Train the recommender for a store and save it next to the store (with the graph's fingerprint)."""
    from lskg.gnn import artifacts
    from lskg.gnn.train import train_for_store

    settings = get_settings(store)
    with _open(settings) as handle, progress_bar("train") as progress:
        model = train_for_store(handle, settings, progress, recommender=recommender, seeds=seeds,
                                split_year=split_year)
    info = {**model.artifact.config(), "path": str(artifacts.artifact_path(settings)),
            "reason": model.artifact.metrics.get("default", {}).get("reason"), "sentence": model.sentence}
    if json_out:
        out.print_json(json.dumps(info))
        return
    out.print(model.sentence, markup=False)
    out.print(f"version {info['model_version']}, saved to {info['path']}", markup=False)


@app.command()
def recommend(
    data: Annotated[list[str] | None, typer.Option("--data", "-d", help="Data source (label or IRI; comma-separated or repeated)")] = None,
    landslide_type: Annotated[list[str] | None, typer.Option("--landslide-type", "-l", help="Landslide type (comma-separated or repeated)")] = None,
    task: Annotated[list[str] | None, typer.Option("--task", "-t", help="Task (comma-separated or repeated)")] = None,
    top: Annotated[int, typer.Option(help="How many families and architectures to show")] = 5,
    store: StoreOption = None,
    json_out: JsonOption = False,
) -> None:
    """Recommend model families and architectures for a context, with the studies they rest on.

    Example:

      lskg recommend --data "InSAR time series" --landslide-type creeping --task "displacement prediction"
    """
    from lskg.gnn import service

    settings = get_settings(store)
    with _open(settings) as handle:
        result = service.recommend(handle, settings, data=_split(data), landslide_type=_split(landslide_type),
                                   task=_split(task), top=top)
    if json_out:
        out.print_json(json.dumps(asdict(result)))
        return
    _print_recommendation(result)


def _print_recommendation(result: Recommendation) -> None:
    from lskg.gnn.snapshot import short_title

    ctx = result.context
    parts = [f"{name}: {', '.join(c.label for c in concepts)}" for name, concepts in
             (("data", ctx.data), ("landslide type", ctx.landslide_type), ("task", ctx.task)) if concepts]
    out.print(f"context: {'; '.join(parts) or '(none)'}   recommender: {result.recommender} "
              f"({result.model_version})", markup=False)
    out.print(result.evidence.summary, markup=False)
    for part in result.evidence.parts:
        narrower = f" ({', '.join(part.narrower_concepts)})" if part.narrower else ""
        broader = f" ({' / '.join(part.broader_concepts)})" if part.broader else ""
        out.print(f"{part.label}: {part.exact} studies at it, {part.narrower} at a narrower concept{narrower}, "
                  f"{part.broader} at a broader one{broader}", markup=False)
        for s in part.supporting[:3]:
            out.print(f"  [{s.relation}] {s.short_title} ({s.year or 'n.d.'})", markup=False)
    for title, items in (("families", result.families), ("architectures", result.architectures)):
        table = Table(title=title, show_lines=False)
        for col in ("#", "concept", "score", "90 % interval", "evidence"):
            table.add_column(col)
        for n, item in enumerate(items, 1):
            studies = "; ".join(f"{short_title(s.title, 60)} ({s.year or 'n.d.'})" for s in item.support[:2])
            score = f"{item.score:.3f}" if item.confident else f"({item.score:.3f} overall)"
            interval = (f"{item.interval[0]:.3f}-{item.interval[1]:.3f}" if item.interval
                        else f"+/- {item.uncertainty:.3f} (uncalibrated)")
            table.add_row(str(n), item.label, score, interval,
                          "\n".join([*item.paths[:3], studies] if studies else item.paths[:3]))
        out.print(table)
    out.print(result.intervals, markup=False)


@app.command()
def gaps(
    facets: Annotated[str, typer.Option(help="model plus one or two of data, landslide_type, task")] = "model,data",
    top: Annotated[int, typer.Option(help="How many gaps")] = 20,
    plot: Annotated[Path | None, typer.Option(help="Also draw the gap map: FILE.png, .svg or .html")] = None,
    write_back: Annotated[bool, typer.Option("--write-back", help="Write the gap scores into the store "
                                                                  "(graph gaps), with provenance")] = False,
    store: StoreOption = None,
    json_out: JsonOption = False,
) -> None:
    """Research gaps: plausible but understudied combinations, each with why."""
    from lskg.gnn import service

    settings = get_settings(store)
    chosen = tuple(f.strip() for f in facets.split(",") if f.strip())
    if plot is not None and len(chosen) != 2:
        raise ConfigError("--plot draws pairs only", hint="use --facets model,data (or model,task ...)")
    fmt = plot.suffix.lstrip(".").lower() if plot else ""
    if plot is not None and fmt not in ("png", "svg", "html"):
        raise ConfigError(f"cannot draw a gap map as {plot.name!r}", hint="use a .png, .svg or .html file")
    with _open(settings, write=write_back) as handle:
        cache = service.GraphCache()
        result = service.gaps(handle, settings, facets=chosen, top=top, cache=cache)
        if plot is not None:
            drawn = service.gap_map(handle, settings, rows=chosen[0], cols=chosen[1], fmt=fmt, cache=cache)
            assert isinstance(drawn, bytes)
            plot.write_bytes(drawn)
            err.print(f"gap map written to {plot}")
        if write_back:
            n = service.write_gaps(handle, settings, result)
            err.print(f"{n} gaps written to the store (graph gaps)")
    if json_out:
        out.print_json(json.dumps(asdict(result)))
        return
    table = Table(title=f"gaps: {' x '.join(chosen)} (scorer {result.scorer}, {result.model_version})")
    for col in ("#", "combination", "studies", "plausibility", "gap", "why"):
        table.add_column(col)
    for n, gap in enumerate(result.gaps, 1):
        table.add_row(str(n), " x ".join(c.label for c in gap.concepts), str(gap.observed),
                      f"{gap.plausibility:.3f}", f"{gap.gap_score:.3f}", "\n".join(gap.why[:2]))
    out.print(table)


@app.command("table")
def table_cmd(
    rows: Annotated[str, typer.Option(help="family or architecture")] = "family",
    cols: Annotated[str, typer.Option(help="Comma-separated: data, landslide_type, task")] = "data,landslide_type,task",
    fmt: Annotated[str, typer.Option("--format", "-f", help="md, csv, latex or html")] = "md",
    store: StoreOption = None,
) -> None:
    """The review's Table 1 regenerated from study-level evidence, with study counts and citations."""
    from lskg.gnn import service

    settings = get_settings(store)
    with _open(settings) as handle:
        text = service.table(handle, settings, rows=rows,
                             cols=tuple(c.strip() for c in cols.split(",") if c.strip()), fmt=fmt)
    typer.echo(text, nl=False)


@evaluate_app.command("recommend")
def evaluate_recommend(
    split_year: Annotated[int | None, typer.Option("--split-year", help="Train on studies up to this year")] = None,
    random: Annotated[bool, typer.Option("--random/--no-random", help="Also the random study-level split")] = True,
    seeds: Annotated[int, typer.Option(help="Seeds (random splits, model initialisations)")] = 5,
    recommenders: Annotated[str | None, typer.Option(help="Comma-separated names (default: all registered)")] = None,
    resamples: Annotated[int, typer.Option(help="Bootstrap refits of the default recommender (one fit each) "
                                                "for the stability of the review's Table 1 (0: none)")] = 200,
    store: StoreOption = None,
    json_out: JsonOption = False,
) -> None:
    """GNN vs every baseline: temporal and random study-level splits, filtered ranks, bootstrap, gap back-test,
    the review's Table 1 and its stability under bootstrap refits."""
    from lskg.gnn import evaluate as ev
    from lskg.gnn.snapshot import Snapshot

    settings = get_settings(store)
    names = [n.strip() for n in recommenders.split(",")] if recommenders else None
    with _open(settings) as handle, progress_bar("evaluate") as progress:
        report = ev.evaluate(Snapshot.from_store(handle), names=names, split_year=split_year,
                             seeds=tuple(range(seeds)), random=random, progress=progress, resamples=resamples)
    if json_out:
        out.print_json(json.dumps(ev.public(report), default=float))
        return
    _print_evaluation(report)


def _table(title: str, first: str, *cols: str) -> Table:
    """A table whose first column (a name) is never wrapped."""
    table = Table(title=title)
    table.add_column(first, no_wrap=True)
    for col in cols:
        table.add_column(col)
    return table


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def _print_evaluation(report: EvaluationReport) -> None:
    from lskg.gnn import evaluate as ev

    for r in (report.temporal, report.random):
        if r is None:
            continue
        for level, block in r.levels.items():
            cut = f" (train <= {r.split_year})" if r.split_year else ""
            title = (f"{r.split} split{cut}, {level} level: "
                     f"{r.train} train / {r.test} test studies, {block.candidates} candidates, "
                     f"random Hits@3 {block.random_hits_at_3:.3f}")
            table = _table(title, "recommender", *ev.METRICS)
            calibration = _table(f"{r.split} split, {level} level: held-out calibration of the scores", "recommender",
                                 "90% interval coverage", "widened: coverage (x scale)",
                                 "conformal sets: coverage / size")
            for name, row in block.recommenders.items():
                spreads = (ev.metric(row, m) for m in ev.METRICS)
                table.add_row(name, *(f"{s.mean:.3f} +/- {s.std:.3f}" for s in spreads))
                cal = row.calibration
                widened = (f"{_fmt(cal.scaled_interval_coverage)} (x{_fmt(cal.interval_scale, '.1f')})"
                           if cal.interval_scale is not None else "-")
                calibration.add_row(name, _fmt(cal.interval_coverage), widened,
                                    f"{_fmt(cal.conformal_coverage)} / {_fmt(cal.conformal_set_size, '.1f')}")
            out.print(table)
            out.print(calibration)
    for c in report.comparisons:
        out.print(f"{c.split} {c.level}: {c.challenger} - {c.best_baseline} Hits@3 = {c.diff:+.3f} "
                  f"(95% CI {c.low:+.3f}..{c.high:+.3f})", markup=False)
    out.print(f"default recommender: [bold]{report.default.recommender}[/] - ", end="")
    out.print(report.default.reason, markup=False)
    _print_backtest(report.gap_backtest, report.gap_method)
    _print_table1(report)


def _print_table1(report: EvaluationReport) -> None:
    """The review's Table 1 recovered by each recommender, and its ranking for the InSAR worked example."""
    for name, t1 in report.table1.items():
        table = _table(f"the review's Table 1 from study evidence, {name}: {t1.recovered} of {t1.total} rows have "
                       "their family in the top 3", "Table 1 family", "studies", "rank", "top 3",
                       "concepts without a study")
        for row in t1.rows:
            table.add_row(row.family, str(row.family_studies), str(row.rank), ", ".join(row.top3),
                          ", ".join(row.concepts_without_study) or "-")
        out.print(table)
        ranking = ", ".join(f"{f.family} {f.score:.3f}" for f in t1.insar_creeping_displacement)
        out.print(f"{name}: Table 1 rows recovered {t1.recovered}/{t1.total}; InSAR time series + creeping + "
                  f"displacement prediction: {ranking}", markup=False)
        if t1.stability:
            st = t1.stability
            rows = ", ".join(f"{r.family} {r.share:.0%}" for r in st.top3)
            first = ", ".join(f"{f.family} {f.share:.0%}" for f in st.insar_first)
            out.print(f"{name} on {st.resamples} bootstrap resamples of the studies (seed {st.seed}): all rows in "
                      f"the top 3 in {st.all_rows:.0%} of refits, all but one in {st.all_but_one:.0%}; each row in "
                      f"its top 3: {rows}; first for the InSAR example: {first}", markup=False)


def _print_backtest(bt: GapBacktest, method: GapMethod) -> None:
    table = Table(title=f"gap back-test: white spots at {bt.split_year}: {bt.candidates}, filled later "
                        f"(positives): {bt.positives}; learned scorer fitted at {bt.learned_trained_on}")
    for col in ("scorer", "kind", "AUC", "95% CI", "precision@10"):
        table.add_column(col)
    for name, s in sorted(bt.scorers.items(), key=lambda kv: -kv[1].auc if kv[1].auc == kv[1].auc else 1):
        ci = s.auc_ci95
        table.add_row(name, s.kind, f"{s.auc:.3f}", f"{ci[0]:.3f}..{ci[1]:.3f}" if ci else "-",
                      f"{s.precision_at_10:.2f}")
    out.print(table)
    vs = bt.learned_vs_best_heuristic
    if vs:
        out.print(f"learned minus {vs.heuristic}: AUC {vs.diff:+.3f} (paired bootstrap 95% CI "
                  f"{vs.ci95[0]:+.3f}..{vs.ci95[1]:+.3f})", markup=False)
    out.print(f"plausibility filter: {bt.filter.implausible_white_spots} white spots implausible, of which "
              f"{bt.filter.implausible_positives} were filled later", markup=False)
    out.print(f"gap scoring method: {method.method} ({method.reason})", markup=False)


@evaluate_app.command("gaps")
def evaluate_gaps(
    split_year: Annotated[int | None, typer.Option("--split-year", help="White spots at this year; positive if "
                                                                        "filled later")] = None,
    store: StoreOption = None,
    json_out: JsonOption = False,
) -> None:
    """Back-test of the gap scorers: every single heuristic, the learned trees over them and the recommenders'
    plausibility; AUC with a bootstrap CI, precision@10, the number of positives."""
    from lskg.gnn import evaluate as ev
    from lskg.gnn.snapshot import Snapshot

    settings = get_settings(store)
    with _open(settings) as handle:
        report = ev.evaluate_gaps(Snapshot.from_store(handle), split_year=split_year)
    if json_out:
        out.print_json(json.dumps(ev.public(report), default=float))
        return
    _print_backtest(report.gap_backtest, report.gap_method)
