"""Review papers: every study the review cites becomes a study of its own, described by the passages that cite
it ("citation contexts"); facts read in those passages are attributed to it.

* Citations are found by :mod:`lskg.extract.citations`; each gets an id (``nava2022``, ``zhang2022c``), a title
  that is its citation label (``Nava et al. (2022)``) and its year. Repeated mentions merge into one study.
* A narrative citation (``Nava et al. (2022) applied ...``) also owns the next sentence when that sentence carries
  on about it without a citation of its own (``The results indicate ...``).
* General method references: a work cited only where the review explains a model in general (the original LSTM,
  GAN or U-Net papers) is not a landslide study. It is yielded with ``kind="method_reference"`` and no passages,
  so no facts. The test is the *scope* of each citation: if (almost) none of them speaks about landslides or
  slopes, the work is a method reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lskg.errors import InputError
from lskg.extract.citations import Citation, clean_markup, find_citations, fold_name, scopes
from lskg.extract.document import Document, Passage
from lskg.extract.readers.registry import read_text, register
from lskg.extract.sentences import sentence_spans
from lskg.records import Study, StudyKind

# the domain of the review: a citation scope mentioning these speaks about landslides (generic domain words,
# not concept names: the ontology's landslide types all contain "landslide", "slope", "rock" or "debris")
LANDSLIDE_CUE = re.compile(r"\b(landslid\w*|slope(?!s? of the)\w*|geohazard\w*|geo-hazard\w*|debris[- ]flow\w*|"
                           r"rock ?falls?|rockslide\w*|mass movements?|slide bod\w+|ground fissures?|"
                           r"hazard\w*)\b", re.IGNORECASE)
# domain data and phenomena that only landslide (geohazard) work talks about; generic ML vocabulary is excluded
DOMAIN_CUE = re.compile(r"\b(displacements?|deformations?|InSAR|DEMs?|rainfall|precipitation|inventor(?:y|ies)|"
                        r"cracks?|fissures?|reservoirs?|groundwater|earthquakes?|seismic|susceptibility|"
                        r"terrain|geolog\w*|topograph\w*)\b", re.IGNORECASE)
CONTINUATION = re.compile(r"^(?:The (?:results?|proposed|model|method|approach|framework|authors?|study|network|"
                          r"experiments?|findings)|This (?:model|method|approach|framework|study|work|network)|"
                          r"Their|They|Results|Experiments?|Experimental)\b")
MIN_CITATIONS_FOR_REVIEW = 8
# a narrative citation whose verb says the cited authors did landslide work themselves ("Nava et al. (2022)
# applied ..."); "introduced"/"first proposed" alone describe the origin of a general method
STUDY_VERB = re.compile(r"^\S.*?\)\s*(?:\w+ly\s+)?(?:proposed|applied|employed|developed|used|built|designed|"
                        r"achieved|enhanced|demonstrated|constructed|combined|incorporated|integrated|analy[sz]ed|"
                        r"found|showed|compared|predicted|detected|identified|established|adopted|utili[sz]ed|"
                        r"presented|mapped|monitored|trained)\b")
NARRATIVE_WEIGHT = 2.0
"""A narrative citation says more about what a work did than a parenthetical one."""
FOUNDATIONAL_BEFORE = 2018
"""Works older than this (before deep learning reached landslide studies) need a majority of landslide contexts."""


@dataclass
class Context:
    """One place a work is cited: a sentence (span in the clean text) and the part of it the citation owns."""

    sentence: tuple[int, int]
    scope: tuple[int, int]
    narrative: bool
    landslide: bool


@dataclass
class CitedWork:
    citation: Citation
    contexts: list[Context] = field(default_factory=list)
    id: str = ""

    @property
    def landslide_share(self) -> float:
        """The (narrative-weighted) share of this work's citation contexts that are about landslides."""
        weights = [NARRATIVE_WEIGHT if c.narrative else 1.0 for c in self.contexts]
        total = sum(weights)
        return sum(w for w, c in zip(weights, self.contexts, strict=True) if c.landslide) / total if total else 0.0

    @property
    def is_method_reference(self) -> bool:
        share = self.landslide_share
        return share < 0.5 or (share == 0.5 and self.citation.year < FOUNDATIONAL_BEFORE)


def cited_works(text: str) -> list[CitedWork]:
    """Every work cited in ``text`` (already cleaned of markup), with its citation contexts, in order of first
    citation; ids are assigned (``nava2022``; a second work with the same id gets its co-author appended)."""
    works: dict[tuple, CitedWork] = {}
    previous = ""
    for sent_start, sent_end in sentence_spans(text):
        sentence = text[sent_start:sent_end]
        before, previous = previous, sentence
        groups = find_citations(sentence)
        for group, (lo, hi) in zip(groups, scopes(sentence, groups), strict=True):
            scope_text = _without_citations(sentence[lo:hi])
            # a narrative citation doing landslide work in a paragraph about landslides ("In landslide studies,
            # GANs ... For example, Feng et al. (2024) achieved ...")
            context_landslide = bool(LANDSLIDE_CUE.search(scope_text)) or (
                group.narrative and bool(STUDY_VERB.match(sentence[lo:hi]))
                and bool(LANDSLIDE_CUE.search(before) or DOMAIN_CUE.search(scope_text)))
            for citation in group.citations:
                work = works.setdefault(citation.key, CitedWork(citation))
                work.contexts.append(Context((sent_start, sent_end), (lo, hi), group.narrative, context_landslide))
    taken: dict[str, int] = {}
    for work in works.values():
        base = work.citation.base_id
        if base in taken:
            extra = fold_name(work.citation.second) if work.citation.second else "etal"
            work.id = f"{base}-{extra}"
        else:
            work.id = base
        taken[base] = taken.get(base, 0) + 1
    return list(works.values())


def _without_citations(text: str) -> str:
    groups = find_citations(text)
    for group in reversed(groups):
        text = text[:group.start] + text[group.end:]
    return text


def _passages(work: CitedWork, text: str, offsets: list[int], spans: list[tuple[int, int]]) -> list[Passage]:
    passages = []
    starts = {span[0]: i for i, span in enumerate(spans)}
    for context in work.contexts:
        s, e = context.sentence
        passages.append(Passage(text[s:e], offsets[s], scope=context.scope, offsets=tuple(offsets[s:e])))
        if context.narrative and s in starts and starts[s] + 1 < len(spans):
            ns, ne = spans[starts[s] + 1]
            following = text[ns:ne]
            if CONTINUATION.match(following) and not find_citations(following):
                passages.append(Passage(following, offsets[ns], offsets=tuple(offsets[ns:ne])))
    return passages


def _contexts(work: CitedWork, text: str, offsets: list[int]) -> list[Passage]:
    """Every sentence citing the work, scoped to its citation (for the decision stage; not read for facts)."""
    return [Passage(text[s:e], offsets[s], scope=c.scope, offsets=tuple(offsets[s:e]))
            for c in work.contexts for s, e in (c.sentence,)]


def review_documents(raw: str, locator: str) -> Iterator[Document]:
    """One Document per cited work: landslide studies with their citation passages, method references without."""
    text, offsets = clean_markup(raw)
    spans = sentence_spans(text)
    for work in cited_works(text):
        c = work.citation
        authors = tuple(a for a in (c.first, c.second) if a)
        kind: StudyKind = "method_reference" if work.is_method_reference else "landslide_study"
        study = Study(id=work.id, title=c.label, year=c.year, authors=authors, source=f"{locator}#{work.id}",
                      kind=kind)
        passages = () if kind == "method_reference" else tuple(_passages(work, text, offsets, spans))
        yield Document(study, locator, passages, contexts=tuple(_contexts(work, text, offsets)))


def looks_like_review(path: Path) -> bool:
    """A text file with many author-year citations is a review, not a single study."""
    try:
        head = path.read_bytes()[:300_000].decode("utf-8", errors="ignore")
    except OSError:
        return False
    text, _ = clean_markup(head)
    count = 0
    for start, end in sentence_spans(text):
        count += sum(len(g.citations) for g in find_citations(text[start:end]))
        if count >= MIN_CITATIONS_FOR_REVIEW:
            return True
    return False


@register("review", suffixes=(".txt", ".md", ".markdown"), sniff=looks_like_review)
def read_review(path: Path, problems: list[InputError]) -> Iterator[Document]:
    raw = read_text(path)
    found = False
    for document in review_documents(raw, path.name):
        found = True
        yield document
    if not found:
        raise InputError("no author-year citations found; is this a review?", source=str(path),
                         hint="read a single study with --format text")
