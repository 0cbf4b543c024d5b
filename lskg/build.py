"""``build()``: read -> extract -> deduplicate -> map -> load -> validate -> swap, and ``ingest()`` for upserts.

A build writes a complete new graph and only then replaces the old one (atomically on disk; in one update
request on a remote server), so a failed, invalid or interrupted build leaves the previous graph intact.
Records that cannot be read are reported (file and record named) and skipped; the good ones are still built.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from lskg.errors import InputError, ValidationFailed
from lskg.kg import mapping
from lskg.kg.store import EmbeddedStore, Store, StoreDir, open_store
from lskg.kg.validate import ValidationReport, validate
from lskg.ontology import ontology_quads
from lskg.records import StudyFacts
from lskg.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_CORPUS = Path(__file__).resolve().parent / "data" / "corpus.jsonl"

Progress = Callable[[str, int, int | None], None]
"""progress(stage, done, total): called as work advances; the CLI draws it as a progress bar."""


@dataclass
class BuildReport:
    store: str
    sources: list[str]
    studies: int = 0
    method_references: int = 0
    duplicates_merged: int = 0
    facts: dict[str, int] = field(default_factory=dict)
    metrics: int = 0
    candidates: int = 0
    quads: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    validation: ValidationReport | None = None

    def to_json(self) -> str:
        data = asdict(self)
        if self.validation is not None:
            data["validation"] = {"conforms": self.validation.conforms,
                                  "violations": len(self.validation.violations)}
        return json.dumps(data, indent=2)


def merge_duplicates(items: Iterable[StudyFacts]) -> tuple[list[StudyFacts], int]:
    """One StudyFacts per study identity (DOI, else normalised title + year); facts and sources are united."""
    merged: dict[str, StudyFacts] = {}
    dropped = 0
    for item in items:
        key = item.study.key
        if key not in merged:
            merged[key] = item
            continue
        dropped += 1
        kept = merged[key]
        sources = tuple(sorted({*kept.study.sources, kept.study.source, item.study.source, *item.study.sources} - {""}))
        kept.study = replace(kept.study, sources=sources, abstract=kept.study.abstract or item.study.abstract,
                             doi=kept.study.doi or item.study.doi)
        kept.facts.extend(f for f in item.facts if f not in kept.facts)
        kept.metrics.extend(m for m in item.metrics if m not in kept.metrics)
        kept.place = kept.place or item.place
    return list(merged.values()), dropped


def extract(sources: Sequence[Path], fmt: str, report: BuildReport, progress: Progress | None) -> list[StudyFacts]:
    from lskg.extract import extract_corpus

    problems: list[InputError] = []
    started = time.perf_counter()
    items = []
    for n, item in enumerate(extract_corpus(sources, fmt=fmt, problems=problems), 1):
        items.append(item)
        if progress:
            progress("extract", n, None)
    report.problems += [str(p) for p in problems]
    studies, report.duplicates_merged = merge_duplicates(items)
    report.method_references = sum(item.study.kind == "method_reference" for item in studies)
    report.studies = len(studies) - report.method_references
    for item in studies:
        for fact in item.facts:
            report.facts[fact.facet] = report.facts.get(fact.facet, 0) + 1
        report.metrics += len(item.metrics)
        report.candidates += sum(f.candidate for f in item.facts)
    report.seconds["extract"] = round(time.perf_counter() - started, 3)
    return studies


def _load(store: Store, studies: list[StudyFacts], report: BuildReport, progress: Progress | None) -> None:
    started = time.perf_counter()
    store.load(ontology_quads())
    batch = []
    for n, item in enumerate(studies, 1):
        batch.extend(mapping.study_quads(item))
        if len(batch) > 50_000 or n == len(studies):
            store.load(batch)
            report.quads += len(batch)
            batch = []
            if progress:
                progress("load", n, len(studies))
    report.seconds["load"] = round(time.perf_counter() - started, 3)


def _validate(store: Store, report: BuildReport) -> None:
    started = time.perf_counter()
    report.validation = validate(store)
    report.seconds["validate"] = round(time.perf_counter() - started, 3)
    if not report.validation.conforms:
        raise ValidationFailed(report.validation.summary(),
                               hint="the previous graph was kept; fix the input or the extractor and rebuild")


def build(sources: Sequence[str | Path] | None, settings: Settings, *, fmt: str = "auto",
          check: bool = True, progress: Progress | None = None) -> BuildReport:
    """Build a fresh graph from the corpus files (default: the embedded corpus) and swap it in."""
    paths = [Path(s) for s in sources] if sources else [DEFAULT_CORPUS]
    report = BuildReport(store=settings.store, sources=[str(p) for p in paths])
    studies = extract(paths, fmt, report, progress)
    if settings.is_remote:
        staging = EmbeddedStore(None)
        _load(staging, studies, report, progress)
        if check:
            _validate(staging, report)
        remote = open_store(settings.store, read_only=False, update_url=settings.update_url,
                            gsp_url=settings.gsp_url)
        with remote:
            remote.replace_dataset(staging.native.quads_for_pattern(None, None, None, None))
        return report
    with StoreDir(settings.store).rebuild() as store:
        _load(store, studies, report, progress)
        if check:
            _validate(store, report)
    (Path(settings.store) / "build-report.json").write_text(report.to_json())
    return report


def ingest(sources: Sequence[str | Path], settings: Settings, *, fmt: str = "auto",
           progress: Progress | None = None) -> BuildReport:
    """Add or replace studies in the existing graph (each study's named graph is replaced as a whole)."""
    paths = [Path(s) for s in sources]
    report = BuildReport(store=settings.store, sources=[str(p) for p in paths])
    studies = extract(paths, fmt, report, progress)
    staging = EmbeddedStore(None)
    _load(staging, studies, report, progress)
    _validate(staging, report)
    store = open_store(settings.store, read_only=False, update_url=settings.update_url, gsp_url=settings.gsp_url)
    with store:
        store.replace_graphs({mapping.study_graph(item): mapping.study_triples(item) for item in studies})
    return report
