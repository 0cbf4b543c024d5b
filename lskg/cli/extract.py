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
from lskg.cli.core import FORMATS

DecideOption = Annotated[bool | None, typer.Option(
    "--decide/--rules-only", envvar="LSKG_DECIDE", show_envvar=True,
    help="Let the learned decision stage (lskg.decision.v1) decide which candidate concepts are facts; "
         "--rules-only keeps the rule components' facts as they are (default: the LSKG_DECIDE setting, on)")]


@app.command("extract")
def extract_command(
    path: Annotated[list[Path] | None, typer.Argument(help="Corpus file(s) or folder(s)")] = None,
    corpus: Annotated[list[Path] | None, typer.Option("--corpus", "-c", help="Corpus file or folder (repeatable; "
                                                      "the same as giving it as an argument, as in `lskg build`)")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=f"Input format: {FORMATS}")] = "auto",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="JSONL file (default: stdout)")] = None,
    workers: Annotated[int, typer.Option("--workers", "-w", min=1, help="spaCy worker processes")] = 1,
    decide: DecideOption = None,
) -> None:
    """Extract facts (models, families, data, landslide types, tasks, metrics, place) as one JSON object per study.

      lskg extract zotero.bib --output facts.jsonl

      lskg extract --corpus zotero.bib --corpus scopus.csv     # --corpus as in `lskg build`

      lskg extract review.txt --format review

      lskg extract zotero.bib --decide          # the learned decision stage decides the facts
    """
    from lskg.errors import InputError
    from lskg.extract import extract_corpus
    from lskg.extract.output import study_record
    from lskg.ontology import concept_index

    path = [*(path or []), *(corpus or [])]
    if not path:
        raise InputError("no corpus given", hint="name the files: lskg extract zotero.bib (or --corpus zotero.bib)")
    problems: list = []
    index = concept_index()
    handle = output.open("w", encoding="utf-8") if output else sys.stdout
    count = 0
    try:
        with progress_bar("extract") as progress:
            chosen = get_settings(decide=decide).decide
            for count, item in enumerate(extract_corpus(path, fmt, problems, n_process=workers, decide=chosen), 1):
                handle.write(json.dumps(study_record(item, index), ensure_ascii=False) + "\n")
                progress("studies", count, None)
    finally:
        if output:
            handle.close()
    for problem in problems:
        err.print(f"[yellow]skipped:[/] {problem.message}", highlight=False)
    err.print(f"{count} studies extracted, {len(problems)} problems", highlight=False)


GoldOption = Annotated[Path, typer.Option(
    "--gold", "-g", help="A gold folder (annotations + splits.json, e.g. tests/data/gold/real) or a self-contained "
                         "gold JSONL file (id, text, families, data, landslide_types, tasks)")]


def _facet_table(report, title: str):
    """Per facet: P / R / F1 with its 95% interval, for the system and (beside it) the keyword baseline."""
    from rich.table import Table

    from lskg.extract.evaluate import REPORTED, SCORED

    systems = [report] + ([report.baseline] if report.baseline is not None else [])
    table = Table("facet", *(f"{r.system}: P / R / F1 [95% CI]" for r in systems), "vague", title=title)
    for key in REPORTED:
        cells = [f"{r.micro[key].precision:.2f} / {r.micro[key].recall:.2f} / [bold]{r.micro[key].f1:.3f}[/] "
                 f"[{r.ci[key][0]:.2f}-{r.ci[key][1]:.2f}]" for r in systems]
        table.add_row(key if key in SCORED else f"[dim]{key}[/]", *cells, str(report.micro[key].vague))
    return table


@evaluate_app.command("extraction")
def evaluate_extraction_command(
    gold: GoldOption,
    split: Annotated[str | None, typer.Option(help="train, dev or test (a gold folder only); the test split is "
                                                   "frozen and checked against its SHA-256")] = None,
    corpus: Annotated[Path | None, typer.Option(help="Where the gold studies' texts are (default: the embedded "
                                                     "corpus)")] = None,
    json_out: JsonOption = False,
    exact: Annotated[bool, typer.Option("--exact", help="No credit for narrower predictions of a gold concept")]
    = False,
    worst: Annotated[int, typer.Option(help="How many of the worst studies to show")] = 5,
    decide: Annotated[bool, typer.Option("--decide", help="Score rules-only and the learned decision stage side by "
                                                          "side (one extraction), next to keywords and the "
                                                          "annotators' agreement on the split")] = False,
    weights: Annotated[Path | None, typer.Option(help="Decision model JSON (default: the packaged one)")] = None,
) -> None:
    """Precision, recall and F1 of extraction per facet against gold annotations, beside a keyword baseline.

    A prediction at the gold concept or narrower is right, a broader one is counted apart as vague; the interval
    is a 95% bootstrap over studies.

      lskg evaluate extraction --gold tests/data/gold/real --split dev

      lskg evaluate extraction --gold tests/data/gold/real --split dev --decide
    """
    from lskg.extract.evaluate import evaluate_extraction

    if decide:
        _side_by_side(gold, split, corpus, json_out, exact, worst, weights)
        return

    with progress_bar("extract") as progress:
        report = evaluate_extraction(gold, split=split, corpus=corpus, hierarchical=not exact, progress=progress)
    if json_out:
        out.print_json(json.dumps(report.to_dict(worst)))
        return
    out.print(_facet_table(report, f"{report.studies} studies of {report.gold}"))
    for key, labels in report.unresolved.items():
        out.print(f"[yellow]gold {key} with no ontology concept ({len(labels)}):[/] {', '.join(labels)}",
                  highlight=False)
    for s in report.worst(worst):
        out.print(f"[bold]{s.id}[/] ({s.errors} errors) missed={s.missed} spurious={s.spurious}", highlight=False)


def _side_by_side(gold: Path, split: str | None, corpus: Path | None, json_out: bool, exact: bool, worst: int,
                  weights: Path | None) -> None:
    from rich.table import Table

    from lskg.extract.decision import DecisionModel
    from lskg.extract.evaluate import SCORED
    from lskg.extract.learn import evaluate_side_by_side, paired_difference

    model = DecisionModel.load(weights) if weights else None
    with progress_bar("extract") as progress:
        result = evaluate_side_by_side(gold, split=split, corpus=corpus, model=model, hierarchical=not exact,
                                       progress=progress)
    if json_out:
        out.print_json(json.dumps(result.to_dict(worst)))
        return

    def cell(report, key: str) -> str:
        c = report.micro[key]
        return f"{c.precision:.2f} / {c.recall:.2f} / [bold]{c.f1:.3f}[/] [{report.ci[key][0]:.2f}-{report.ci[key][1]:.2f}]"

    agreement = result.agreement
    columns = ["facet", "rules-only: P / R / F1 [95% CI]", f"learned ({result.model})", "learned - rules [95% CI]",
               "keywords"]
    if agreement is not None:
        columns.append(f"annotators A vs B ({agreement.studies} studies)")
    table = Table(*columns, title=f"{result.rules.studies} studies of {result.rules.gold}")
    for key in SCORED:
        diff, lo, hi = paired_difference(result.learned, result.rules, key)
        row = [key, cell(result.rules, key), cell(result.learned, key), f"{diff:+.3f} [{lo:+.2f}, {hi:+.2f}]",
               cell(result.keywords, key)]
        if agreement is not None:
            row.append(cell(agreement, key))
        table.add_row(*row)
    out.print(table)
    for key, labels in result.rules.unresolved.items():
        out.print(f"[yellow]gold {key} with no ontology concept ({len(labels)}):[/] {', '.join(labels)}",
                  highlight=False)
    for s in result.learned.worst(worst):
        out.print(f"[bold]{s.id}[/] ({s.errors} errors) missed={s.missed} spurious={s.spurious}", highlight=False)


@app.command("train-extractor")
def train_extractor_command(
    gold: GoldOption,
    learner: Annotated[str, typer.Option(help="logistic (L2 logistic regression) or boosting (gradient-boosted "
                                              "trees)")] = "logistic",
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the LSKG_SEED setting, 0)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where to write the model JSON (default: "
                                                                       "the packaged extract/models/"
                                                                       "decision-v1.json)")] = None,
    corpus: Annotated[Path | None, typer.Option(help="Where the gold studies' texts are (default: the embedded "
                                                     "corpus)")] = None,
    review: Annotated[Path | None, typer.Option(help="Also retrain the review-kind model (landslide study or "
                                                     "general method reference) on this review text ...")] = None,
    review_gold: Annotated[Path, typer.Option(help="... and these gold lists (seed_studies.jsonl, "
                                                   "method_references.jsonl)")] = Path("tests/data/gold"),
    json_out: JsonOption = False,
) -> None:
    """Retrain the extractor's decision stage from the gold's train split (thresholds per facet from dev).

    Reproducible: the same gold and seed write the same file. The test split is never read.

      lskg train-extractor --gold tests/data/gold/real --seed 0

      lskg train-extractor --gold tests/data/gold/real --review ../shared/seeds/review.txt
    """
    from lskg.extract.decision import WEIGHTS
    from lskg.extract.evaluate import SCORED
    from lskg.extract.learn import train_from_gold

    chosen_seed = get_settings(seed=seed).seed
    if review is not None:
        from lskg.extract.review_kind import save_kind, train_kind_from_review

        kind_model, in_sample, cv = train_kind_from_review(review, review_gold, seed=chosen_seed)
        save_kind(kind_model)
        err.print(f"review kind: {in_sample['studies_kept']}/{in_sample['studies']} landslide studies kept, "
                  f"{in_sample['method_references_kept']}/{in_sample['method_references']} method references "
                  f"kept wrongly (5-fold CV: {cv['studies_kept']}/{cv['studies']}, "
                  f"{cv['method_references_kept']}/{cv['method_references']})", highlight=False)
    with progress_bar("train") as progress:
        trained = train_from_gold(gold, learner=learner, seed=chosen_seed, corpus=corpus, progress=progress)
    target = output or WEIGHTS
    trained.model.save(target)
    summary = {"model": trained.model.version, "written": str(target), "train_studies": trained.train_studies,
               "dev_studies": trained.dev_studies,
               "thresholds": {f: m.threshold for f, m in trained.model.facets.items()},
               "dev": {k: {"rules_only": round(trained.dev_rules.micro[k].f1, 4),
                           "learned": round(trained.dev_learned.micro[k].f1, 4)} for k in SCORED}}
    if json_out:
        out.print_json(json.dumps(summary))
        return
    out.print(f"{trained.model.version}: trained on {trained.train_studies} studies, thresholds from "
              f"{trained.dev_studies} dev studies, written to {target}", highlight=False)
    for k in SCORED:
        out.print(f"  dev {k}: rules-only {trained.dev_rules.micro[k].f1:.3f}, learned "
                  f"{trained.dev_learned.micro[k].f1:.3f}", highlight=False)


@evaluate_app.command("agreement")
def evaluate_agreement_command(gold: GoldOption, corpus: Annotated[Path | None, typer.Option(
        help="Where the gold studies' texts are (default: the embedded corpus)")] = None,
        json_out: JsonOption = False) -> None:
    """Inter-annotator agreement per facet: the second annotation (B) scored against the first (A), with the
    same rules as extraction. No extractor can honestly be asked to beat it."""
    from lskg.extract.evaluate import agreement

    report = agreement(gold, corpus=corpus)
    if json_out:
        out.print_json(json.dumps(report.to_dict(0)))
        return
    out.print(_facet_table(report, f"agreement on {report.studies} studies annotated twice"))


@evaluate_app.command("split-gold")
def split_gold_command(
    gold: GoldOption,
    test: Annotated[int, typer.Option(help="Studies in the test split (drawn once, then frozen)")] = 120,
    dev: Annotated[int, typer.Option(help="Studies in the dev split")] = 80,
    seed: Annotated[int, typer.Option(help="Random seed of the draw")] = 20261201,
) -> None:
    """Assign annotated studies to train/dev/test (by study, at random) and write splits.json. Studies already
    assigned keep their split; the test split is drawn only once and its SHA-256 recorded."""
    from lskg.extract.gold import make_splits

    splits = make_splits(gold, test=test, dev=dev, seed=seed)
    err.print(f"train {len(splits['train'])}, dev {len(splits['dev'])}, test {len(splits['test'])} "
              f"(test SHA-256 {splits['test_sha256']})", highlight=False)


@concepts_app.command("candidates")
def candidates_command(store: StoreOption = None, json_out: JsonOption = False) -> None:
    """Architectures found in texts but not in the ontology, with their assigned families (for review)."""
    from rich.table import Table

    from lskg.kg import open_store

    settings = get_settings(store)
    with open_store(settings) as handle:
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
