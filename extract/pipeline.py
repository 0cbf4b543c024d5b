"""The spaCy pipeline (from ``config.cfg``) and the :class:`Extractor` that turns Documents into StudyFacts.

    extractor = Extractor()                       # the packaged ontology
    for facts in extractor.run(documents):        # Documents from lskg.extract.readers
        ...

Each passage of a document is run through the pipeline once (a review sentence citing three studies is read
once), in batches with ``nlp.pipe``. ``n_process`` > 1 splits the documents over that many worker processes, each
running this same Extractor (forked, so nothing is rebuilt) on chunks of documents and sending back StudyFacts: the
output is the same, in the same order. (spaCy's own ``n_process`` ships every Doc, vocabulary included, to a
worker and back, and was slower than one process.) Mentions inside the passage's scope become
:class:`~lskg.records.Fact` records with :class:`~lskg.records.Evidence` (document locator, sentence, character
span in the source document, extractor component name, confidence), read from the Doc's token table
(:mod:`lskg.extract.components.tokens`).
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from lskg.extract import startup  # noqa: F401 - first: spaCy without torch

# isort: split
import spacy
from spacy.language import Language
from spacy.tokens import Doc

from lskg.extract import components  # noqa: F401 - registers the factories
from lskg.extract.components.facet_ruler import VocabularyComponent
from lskg.extract.components.tokens import TokenTable, token_table
from lskg.extract.document import Document, Passage
from lskg.extract.mentions import Mention, mentions, register_extensions
from lskg.extract.vocabulary import Vocabulary
from lskg.forking import helper_started
from lskg.ontology import ConceptIndex, concept_index
from lskg.records import Evidence, Fact, Metric, StudyFacts

log = logging.getLogger(__name__)

CONFIG = Path(__file__).resolve().parent / "config.cfg"
ROLE_WEIGHT = {"proposed": 1.0, "applied": 1.0, "baseline": 0.95, "mentioned": 0.6}
ROLE_RANK = {"proposed": 0, "applied": 1, "baseline": 2, "mentioned": 3}
BATCH_DOCUMENTS = 256
WORKER_CHUNK = 16
"""Documents per task sent to a worker process (small: the order of the output is kept, and a slow chunk
holds back only that many)."""
WARM_UP = ("We propose LiteTransNet, a U-Net (UN) for landslide detection from Sentinel-2 images; landslides "
           "triggered by rainfall were mapped.")
"""Read once before the workers fork, so that the tables the components build on first use (the vocabulary, its
prefixes, the paraphrases) are built once in the parent and shared, not once per worker."""


def build_pipeline(index: ConceptIndex | None = None, overrides: dict[str, Any] | None = None) -> Language:
    """The extraction pipeline from ``config.cfg``; ``index`` replaces the packaged ontology (for tests)."""
    register_extensions()
    config = spacy.util.load_config(CONFIG, overrides=overrides or {})
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    if index is not None:
        vocabulary = Vocabulary.from_index(index)
        for _, component in nlp.pipeline:
            if isinstance(component, VocabularyComponent):
                component.vocabulary = vocabulary
    return nlp


class Extractor:
    """Runs the pipeline over Documents and assembles one StudyFacts per study."""

    def __init__(self, index: ConceptIndex | None = None, *, n_process: int = 1, batch_size: int | None = None,
                 nlp: Language | None = None, decide: Any = False) -> None:
        self.index = index or concept_index()
        self.nlp = nlp or build_pipeline(index)
        self.n_process = n_process
        self.batch_size = batch_size or self.nlp.batch_size
        self.decision = _decision_stage(decide, self.index)
        """The learned decision stage (``lskg.extract.decision``) when ``decide`` is on: True for the packaged
        model, or a DecisionStage; None (the default) keeps the rules' facts as they are."""

    def run(self, documents: Iterable[Document]) -> Iterator[StudyFacts]:
        if self.n_process > 1:
            yield from self._run_workers(documents)
        else:
            yield from self._run_here(documents)

    def _run_here(self, documents: Iterable[Document]) -> Iterator[StudyFacts]:
        batch: list[Document] = []
        for document in documents:
            if self.decision is not None:
                document = self.decision.prepare(document)
            batch.append(document)
            if len(batch) >= BATCH_DOCUMENTS:
                yield from self._run_batch(batch)
                batch = []
        if batch:
            yield from self._run_batch(batch)

    def _run_workers(self, documents: Iterable[Document]) -> Iterator[StudyFacts]:
        rest = iter(documents)
        chunks: Iterator[list[Document]] = iter(lambda: list(itertools.islice(rest, WORKER_CHUNK)), [])
        first = next(chunks, [])
        second = next(chunks, None)
        if second is None:  # a single chunk: starting processes would cost more than it saves
            yield from self._run_here(first)
            return
        chunks = itertools.chain([first, second], chunks)
        self.read(WARM_UP)
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        with context.Pool(self.n_process, initializer=_start_worker, initargs=(self, os.getpid())) as pool:
            for chunk in pool.imap(_run_chunk, chunks):
                yield from chunk

    def read(self, text: str, title: str | None = None) -> Doc:
        """One text through the pipeline (``title``: the text starts with this title)."""
        return self.nlp(self._make_doc(text, len(title) if title else None))

    def _make_doc(self, text: str, title_end: int | None) -> Doc:
        doc = self.nlp.make_doc(text)
        doc._.lskg_title_end = title_end
        return doc

    def _run_batch(self, batch: list[Document]) -> Iterator[StudyFacts]:
        keys: dict[tuple[str, int | None], int] = {}
        for document in batch:
            for passage in document.passages:
                keys.setdefault((passage.text, _title_end(document, passage)), len(keys))
        made = [self._make_doc(text, title_end) for text, title_end in keys]
        docs = list(self.nlp.pipe(made, batch_size=self.batch_size, n_process=self.n_process))
        for document in batch:
            facts = StudyFacts(document.study)
            read = []
            for passage in document.passages:
                doc = docs[keys[(passage.text, _title_end(document, passage))]]
                self._collect(document, passage, doc, facts)
                read.append((passage, doc))
            facts.facts = _merge(facts.facts)
            if self.decision is not None:
                facts = self.decision(document, read, facts)
            yield facts

    def _collect(self, document: Document, passage: Passage, doc: Doc, out: StudyFacts) -> None:
        tokens = token_table(doc)
        for m in mentions(doc):
            start_char, end_char = tokens.idx[m.start], tokens.end_char(m.end - 1)
            if not passage.in_scope(start_char, end_char):
                continue
            out.facts.append(self._fact(document, passage, tokens, m, start_char, end_char))
        for metric in doc._.lskg_metrics or ():
            if passage.in_scope(metric.start_char, metric.end_char):
                ev = self._evidence(document, passage, tokens, metric.start_char, metric.end_char, metric.extractor,
                                    0.9)
                out.metrics.append(Metric(metric.name, metric.value, metric.unit, ev))
        places = [p for p in doc._.lskg_places or () if passage.in_scope(p.start_char, p.end_char)]
        if places:
            best = max(places, key=lambda p: (p.score, -p.start_char))
            current = out.place_evidence.confidence if out.place_evidence else 0.0
            if best.score > current:
                out.place = best.name
                out.place_evidence = self._evidence(document, passage, tokens, best.start_char, best.end_char,
                                                    best.extractor, best.score)

    def _fact(self, document: Document, passage: Passage, tokens: TokenTable, m: Mention, start: int,
              end: int) -> Fact:
        confidence = round(min(1.0, m.confidence * ROLE_WEIGHT.get(m.role, 1.0)), 3)
        ev = self._evidence(document, passage, tokens, start, end, m.extractor, confidence)
        broader: tuple[str, ...] = ()
        if m.candidate:
            broader = tuple(sorted({f for b in m.broader for f in self._family_iris(b)}))
        role = m.role if m.facet == "model" or m.role == "mentioned" else "applied"
        return Fact(m.facet, m.concept, m.label, ev, role=role, candidate=m.candidate, broader=broader)

    def _family_iris(self, iri: str) -> set[str]:
        roots = {iri} | self.index.ancestors(iri)
        return {r for r in roots if r in self.index.concepts and "ModelFamily" in self.index.concepts[r].types}

    @staticmethod
    def _evidence(document: Document, passage: Passage, tokens: TokenTable, start: int, end: int, extractor: str,
                  confidence: float) -> Evidence:
        span = tokens.char_span(start, end)
        text = passage.text  # the Doc's text
        sentence = tokens.sentence_text(span[0]) if span is not None else text
        return Evidence(document=document.locator, sentence=sentence, start=passage.doc_offset(start),
                        end=passage.doc_offset(end - 1) + 1, span=text[start:end], extractor=extractor,
                        confidence=confidence)


def _decision_stage(decide: Any, index: ConceptIndex) -> Any:
    if decide is False or decide is None:
        return None
    if decide is True:
        from lskg.extract.decision import DecisionStage

        return DecisionStage(index)
    return decide


_worker: Extractor | None = None


def _start_worker(extractor: Extractor, parent: int) -> None:
    global _worker
    helper_started(parent)
    _worker = extractor
    _worker.n_process = 1


def _run_chunk(documents: list[Document]) -> list[StudyFacts]:
    assert _worker is not None
    return list(_worker.run(documents))


def _title_end(document: Document, passage: Passage) -> int | None:
    title = document.study.title
    if title and passage.start == 0 and passage.scope is None and passage.text.startswith(title):
        return len(title) + 1
    return None


def _merge(facts: list[Fact]) -> list[Fact]:
    """One fact per (facet, concept): its strongest role (proposed > applied > baseline > mentioned) with the
    best-evidenced mention in that role."""
    best: dict[tuple[str, str], Fact] = {}
    for fact in facts:
        key = (fact.facet, fact.concept)
        old = best.get(key)
        if old is None or (ROLE_RANK[fact.role], -fact.evidence.confidence) < \
                (ROLE_RANK[old.role], -old.evidence.confidence):
            best[key] = fact
    return sorted(best.values(), key=lambda f: (f.facet, ROLE_RANK[f.role], f.label.lower()))
