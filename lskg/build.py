"""``build()``: read -> extract and map -> deduplicate -> stage -> validate -> write -> swap, and ``ingest()`` for upserts.

A build maps the studies into an in-memory store (the staging graph) as extraction hands them over, validates it
there with the SPARQL SHACL engine, and only then writes it to the store with one bulk load: into a fresh folder
that replaces the old one atomically on disk, or in one update request on a remote server. So a failed, invalid
or interrupted build leaves the previous graph intact, and the disk sees only a graph that has already passed
validation.
Records that cannot be read are reported (file and record named) and skipped; the good ones are still built. A
build that reads no study at all, or names a file that does not exist, fails and keeps the previous graph.

On disk, builds and adds hold the store's writer lock (``StoreDir.lock``) from start to end: a second writer
fails at once with a message naming the holder, or waits up to ``wait`` seconds. ``ingest`` is copy-on-write
(``StoreDir.update``), so a server reading the store switches to the new graph between requests and never sees
it half-written.

After validation the build counts studies into a small aggregates graph (``lskg.kg.aggregates``) written with the
rest; ``ingest`` recomputes it over the updated graph (before the swap, on disk), so counts never go stale.

``BuildReport.seconds`` times each stage (extract, map, validate, aggregate, write, and the total), so a user sees
where a build's time goes (``lskg build`` prints it as one line). Mapping runs while the workers extract, so
"extract" includes most of it; "map" is what is left once extraction ends (the last batch, and the studies that
merging changed).
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from pyoxigraph import NamedNode, Quad

from lskg.data import CORPUS as DEFAULT_CORPUS
from lskg.errors import InputError, ValidationFailed
from lskg.kg import mapping
from lskg.kg.aggregates import aggregate_quads, refresh
from lskg.kg.store import EmbeddedStore, Store, StoreDir, open_store
from lskg.kg.validate import ValidationReport, validate
from lskg.ontology import ontology_quads
from lskg.records import StudyFacts
from lskg.settings import Settings

log = logging.getLogger(__name__)


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
    workers: int = 1
    seconds: dict[str, float] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    """Per stage, as ``seconds``: CPU time of this process and of its extraction workers (steadier than wall
    clock on a busy machine; benchmarks/bench_growth.py reports both)."""
    validation: ValidationReport | None = None

    def timings(self) -> str:
        """The stages' wall-clock seconds on one line: ``12.3 s: extract 9.1 (2 workers), map 1.2, ...``."""
        stages = [f"{name} {seconds:.1f}" + (f" ({self.workers} workers)" if name == "extract" and
                                               self.workers > 1 else "")
                  for name, seconds in self.seconds.items() if name != "total"]
        total = self.seconds.get("total", sum(self.seconds.values()))
        return f"{total:.1f} s: " + ", ".join(stages)

    def to_json(self) -> str:
        data = asdict(self)
        if self.validation is not None:
            data["validation"] = {"conforms": self.validation.conforms,
                                  "violations": len(self.validation.violations)}
        return json.dumps(data, indent=2)


class _Clock:
    """Wall-clock and CPU seconds from its start to each ``record`` (CPU: this process and its finished child
    processes, i.e. the extraction workers)."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), _cpu()

    def record(self, report: BuildReport, stage: str) -> None:
        report.seconds[stage] = round(time.perf_counter() - self.wall, 3)
        report.cpu_seconds[stage] = round(_cpu() - self.cpu, 3)


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def merge_duplicates(items: Iterable[StudyFacts]) -> tuple[list[StudyFacts], list[StudyFacts]]:
    """One StudyFacts per study identity (DOI, else normalised title + year); facts and sources are united.
    Returns the studies and, of those, the ones other records were merged into (changed in place).

    A record that names another as ``same_as`` (a paraphrased abstract of a paper a review summarised) joins that
    record's study; the merged study keeps the bibliographic fields of the record that has a DOI."""
    items = list(items)
    keys = {item.study.id: item.study.key for item in items}
    redirect = {keys[alias]: item.study.key for item in items for alias in item.study.same_as if alias in keys}
    merged: dict[str, StudyFacts] = {}
    grown: dict[str, StudyFacts] = {}
    for item in items:
        key = redirect.get(item.study.key, item.study.key)
        if key not in merged:
            merged[key] = item
            continue
        kept = grown[key] = merged[key]
        first, second = (item.study, kept.study) if item.study.doi and not kept.study.doi else (kept.study, item.study)
        sources = tuple(sorted({*first.sources, first.source, second.source, *second.sources} - {""}))
        kept.study = replace(first, sources=sources, abstract=first.abstract or second.abstract,
                             doi=first.doi or second.doi, url=first.url or second.url,
                             text_kinds=tuple(dict.fromkeys((*first.text_kinds, *second.text_kinds))),
                             same_as=tuple(dict.fromkeys((*first.same_as, *second.same_as))))
        kept.facts.extend(f for f in item.facts if f not in kept.facts)
        kept.metrics.extend(m for m in item.metrics if m not in kept.metrics)
        kept.place = kept.place or item.place
    return list(merged.values()), list(grown.values())


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Mapping allocates millions of short-lived objects and no reference cycles: each run of the cyclic garbage
    collector it triggers walks every object alive, the extracted studies too, so it costs more the larger the
    corpus (about a tenth of mapping's CPU at 3,000 studies). Extraction in this process leaves about six
    unreachable cycles per study (1,893 studies: RSS 174 MB with the collector on, 176 MB with it off), so the
    collector stays off while studies are extracted (the forked extraction workers inherit that) and mapped; it
    finds those cycles once it runs again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def extract(sources: Sequence[Path], fmt: str, report: BuildReport, progress: Progress | None, *,
            decide: bool = False, workers: int = 1, staging: Staging | None = None) -> list[StudyFacts]:
    """Extract and deduplicate the studies of ``sources`` (``workers`` processes), counting them into ``report``.
    With ``staging``, each study is mapped into it as it arrives, while the workers read on."""
    from lskg.extract import extract_corpus

    problems: list[InputError] = []
    clock = _Clock()
    report.workers = workers
    items = []
    corpus = extract_corpus(sources, fmt=fmt, problems=problems, n_process=workers, decide=decide)
    with _gc_paused():
        for n, item in enumerate(corpus, 1):
            items.append(item)
            if staging is not None:
                staging.add(item)
            if progress:
                progress("extract", n, None)
    report.problems += [str(p) for p in problems]
    studies, grown = merge_duplicates(items)
    if staging is not None:
        staging.merged(items, studies, grown)
    report.duplicates_merged = len(items) - len(studies)
    report.method_references = sum(item.study.kind == "method_reference" for item in studies)
    report.studies = len(studies) - report.method_references
    for item in studies:
        for fact in item.facts:
            report.facts[fact.facet] = report.facts.get(fact.facet, 0) + 1
        report.metrics += len(item.metrics)
        report.candidates += sum(f.candidate for f in item.facts)
    clock.record(report, "extract")
    return studies


class Staging:
    """The staging graph: a new in-memory store with the ontology, into which each study is mapped to RDF as
    extraction hands it over, so that mapping runs in this process while the extraction workers read on. Quads
    are loaded in batches of about 200,000 (each load has a fixed cost; larger batches only hold more memory).

    Duplicates can only be merged once every record is read: ``merged`` notes the named graphs that merging
    changed (those of the records merged away and of the studies they joined), and ``finish`` drops those graphs
    and maps their studies again, so the staging graph ends exactly as if the merged studies had been mapped."""

    BATCH = 200_000

    def __init__(self, report: BuildReport) -> None:
        self.store = EmbeddedStore(None)
        self.store.load(ontology_quads())
        self._report = report
        self._batch: list[Quad] = []
        self._graphs: dict[int, NamedNode] = {}
        """id() of each StudyFacts added (the caller holds them until ``merged``) -> the graph it went into."""
        self._mapped: dict[NamedNode, int] = {}
        """Quads mapped into each graph (taken back from ``report.quads`` when the graph is mapped again)."""
        self._changed: set[NamedNode] = set()

    def add(self, item: StudyFacts) -> None:
        graph = self._graphs[id(item)] = mapping.study_graph(item)
        before = len(self._batch)
        self._batch += mapping.study_quads(item)
        self._mapped[graph] = self._mapped.get(graph, 0) + len(self._batch) - before
        if len(self._batch) > self.BATCH:
            self._load()

    def merged(self, items: list[StudyFacts], studies: list[StudyFacts], grown: list[StudyFacts]) -> None:
        kept = {id(item) for item in studies}
        self._changed = {self._graphs[id(item)] for item in items if id(item) not in kept}
        self._changed |= {self._graphs[id(item)] for item in grown}

    def finish(self, studies: list[StudyFacts], progress: Progress | None) -> EmbeddedStore:
        """Map again the studies whose graphs merging changed; the staging graph, complete."""
        clock = _Clock()
        self._load()
        if self._changed:
            self._report.quads -= sum(self._mapped[graph] for graph in self._changed)
            self.store.remove_graphs(self._changed)
            with _gc_paused():
                for item in studies:
                    if mapping.study_graph(item) in self._changed:
                        self._batch += mapping.study_quads(item)
            self._load()
        if progress:
            progress("map", len(studies), len(studies))
        clock.record(self._report, "map")
        return self.store

    def _load(self) -> None:
        self.store.load(self._batch)
        self._report.quads += len(self._batch)
        self._batch = []


def _validate(store: Store, report: BuildReport) -> None:
    clock = _Clock()
    report.validation = validate(store)
    clock.record(report, "validate")
    if not report.validation.conforms:
        raise ValidationFailed(report.validation.summary(),
                               hint="the previous graph was kept; fix the input or the extractor and rebuild")


def _aggregate(staging: EmbeddedStore, report: BuildReport) -> None:
    """Add the build-time aggregates (``lskg.kg.aggregates``) to the staging graph, so one write carries both."""
    clock = _Clock()
    staging.load(aggregate_quads(staging))
    clock.record(report, "aggregate")


def _require_sources(paths: Sequence[Path]) -> None:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise InputError("no such file or folder: " + ", ".join(missing),
                         hint="check the path; the graph was left as it was")


def _require_studies(report: BuildReport) -> None:
    """Refuse to replace a graph with an empty one: no study read means the input is wrong, not empty."""
    if report.studies or report.method_references:
        return
    shown = [f"  - {p}" for p in report.problems[:20]]
    if len(report.problems) > 20:
        shown.append(f"  ... and {len(report.problems) - 20} more problems")
    raise InputError("\n".join([f"no study could be read from {', '.join(report.sources)}", *shown]),
                     hint="the graph was left as it was; check the files and --format")


def _writer_lock(settings: Settings, wait: float | None, holder: str) -> contextlib.AbstractContextManager[None]:
    if settings.is_remote:
        return contextlib.nullcontext()  # the server orders its own writes
    return StoreDir(settings.store).lock(wait=wait, holder=holder)


def build(sources: Sequence[str | Path] | None, settings: Settings, *, fmt: str = "auto",
          check: bool = True, progress: Progress | None = None, wait: float | None = 0) -> BuildReport:
    """Build a fresh graph from the corpus files (default: the embedded corpus) and swap it in. Extraction runs
    in ``settings.extract_workers`` processes.

    Raises InputError (the graph untouched) when a source is missing or no study could be read, and
    StoreLockedError when another writer holds the store and does not let go within ``wait`` seconds."""
    paths = [Path(s) for s in sources] if sources else [DEFAULT_CORPUS]
    _require_sources(paths)
    with _writer_lock(settings, wait, "lskg build"):
        return _build(paths, settings, fmt=fmt, check=check, progress=progress)


def _build(paths: list[Path], settings: Settings, *, fmt: str, check: bool, progress: Progress | None
           ) -> BuildReport:
    whole = _Clock()
    report = BuildReport(store=settings.store, sources=[str(p) for p in paths])
    staging = Staging(report)
    studies = extract(paths, fmt, report, progress, decide=settings.decide, workers=settings.extract_workers,
                      staging=staging)
    _require_studies(report)
    graph = staging.finish(studies, progress)
    del studies, staging
    if check:
        _validate(graph, report)
    _aggregate(graph, report)
    writing = _Clock()
    if settings.is_remote:
        with open_store(settings.store, read_only=False, update_url=settings.update_url,
                        gsp_url=settings.gsp_url) as remote:
            remote.replace_dataset(graph.quads())
    else:
        with StoreDir(settings.store).rebuild() as store:
            store.load(graph.quads())
    writing.record(report, "write")
    whole.record(report, "total")
    if not settings.is_remote:
        written = Path(settings.store) / "build-report.json.tmp"
        written.write_text(report.to_json())
        written.replace(written.with_suffix(""))
    return report


def ingest(sources: Sequence[str | Path], settings: Settings, *, fmt: str = "auto",
           progress: Progress | None = None, wait: float | None = 0) -> BuildReport:
    """Add or replace studies in the existing graph (each study's named graph is replaced as a whole).

    On disk the change is written to a copy of the current graph that then replaces it (``StoreDir.update``).
    Raises InputError (the graph untouched) when a source is missing or no study could be read."""
    paths = [Path(s) for s in sources]
    _require_sources(paths)
    if not settings.is_remote:
        StoreDir(settings.store).generation()  # no graph yet: say so before reading anything
    with _writer_lock(settings, wait, "lskg add"):
        report = BuildReport(store=settings.store, sources=[str(p) for p in paths])
        staging = Staging(report)
        studies = extract(paths, fmt, report, progress, decide=settings.decide, workers=settings.extract_workers,
                          staging=staging)
        _require_studies(report)
        _validate(staging.finish(studies, progress), report)
        graphs = {mapping.study_graph(item): mapping.study_triples(item) for item in studies}
        if settings.is_remote:
            with open_store(settings.store, read_only=False, update_url=settings.update_url,
                            gsp_url=settings.gsp_url) as remote:
                remote.replace_graphs(graphs)
                refresh(remote)
        else:
            with StoreDir(settings.store).update() as store:
                store.replace_graphs(graphs)
                refresh(store)
    return report
