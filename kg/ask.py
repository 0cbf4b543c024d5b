"""Plain-English questions read as (what is asked) x (which concepts): the question form picks the answer kind,
ontology concepts are recognised by their labels, by the words of multi-word labels in any order and by head
nouns, and every word that was not understood is reported.

    which models use InSAR for creeping landslides      -> models   {data: InSAR, landslide_type: slow-moving}
    which landslide studies used rainfall data          -> studies  {data: rainfall data}
    GRU-based studies, including BiGRU and VAE-GRU      -> studies  {model: GRU (narrower and hybrids match)}
    what RMSE do LSTM studies report                    -> metric   {model: LSTM}, metric RMSE
    what does Table 1 say for debris flows              -> table1   {landslide_type: debris flow}
    predict displacement from GNSS                      -> studies  {task: displacement prediction, data: GNSS}

``read.ask`` runs the question against a store; this module only reads it (no store needed).
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from typing import Literal

from lskg.errors import UnknownConceptError
from lskg.ontology import Concept, concept_index
from lskg.ontology.labels import fold
from lskg.records import Facet

AnswerKind = Literal["studies", "models", "data", "landslide_type", "task", "count", "metric", "table1"]
ANSWER_KINDS: tuple[AnswerKind, ...] = ("studies", "models", "data", "landslide_type", "task", "count", "metric",
                                        "table1")

QUESTION_WORDS = frozenset("""
a an the which what who whom whose how many much is are was were be been do does did use uses used using with for
of in on to by and or from that this these those study studies paper papers article articles work works research
publication publications model models method methods architecture architectures family families network networks
approach approaches algorithm algorithms data dataset datasets source sources input inputs sensor sensors
observation observations landslide landslides type types kind kinds task tasks problem problems application
applications show list find give me all any there have has most often common commonly applied apply based
including include includes included plus its their them it they as at such like say says said table review
reviews typical typically pair paired pairs report reports reported reporting metric metrics value values score
scores performance achieve achieved achieves reach reached reaches number count deep learning neural dl ml into
other both between combine combined combining hybrid hybrids variant variants about can could should would
predict predicts predicted predicting forecast forecasts forecasting detect detects detected detecting map maps
mapped mapping identify identifies identified identifying estimate estimated studied target targets
targeted according combines
""".split())
"""Words of the question form, not concepts: never reported as not understood (some, like "predict", still
join a multi-word concept such as "displacement prediction" when the question names its other words)."""

METRICS = {fold(k): v for k, v in {
    "RMSE": "RMSE", "root mean square error": "RMSE", "MAE": "MAE", "mean absolute error": "MAE",
    "MAPE": "MAPE", "AUC": "AUC", "area under the curve": "AUC", "ROC": "AUC", "F1": "F1", "F1 score": "F1",
    "F1-score": "F1", "accuracy": "accuracy", "precision": "precision", "recall": "recall", "IoU": "IoU",
    "mIoU": "mIoU", "R2": "R2", "R²": "R2", "coefficient of determination": "R2", "kappa": "kappa",
    "MSE": "MSE", "overall accuracy": "accuracy", "OA": "accuracy",
}.items()}
"""Metric names as users write them -> the name the extractor stores (lskg:metricName)."""

_FORMS: list[tuple[AnswerKind, str]] = [  # first match wins
    ("table1", r"\btable\s*1\b|\btypical(?:ly)?\b|\bthe review(?:'s)? (?:say|list|pair|recommend|suggest)"
               r"|\baccording to the review\b"),
    ("count", r"\bhow many\b|\bnumber of\b|\bcount\b"),
    ("metric", r"\bmetrics?\b|\bhow (?:well|accurate)\b|\bperformance\b|\bscores?\b|\bwhat (?:is|was|were) the\b"
               r"|\b(?:reports?|reported|reporting|achieved?|reach(?:ed)?)\b"),
    ("data", r"\b(?:which|what) (?:kinds? of |types? of )?(?:input )?(?:data|datasets?|data sources?|inputs?|sensors?"
             r"|observations?|imagery)\b(?! augmentation)"),
    ("landslide_type", r"\b(?:which|what) (?:kinds? of |types? of )?landslides?(?: types?)?\b"
                       r"(?!\s+(?:stud|paper|article|research|work|public|detection|mapping|prediction))"
                       r"|\blandslide types\b"),
    ("task", r"\b(?:which|what) (?:tasks?|problems?|applications?)\b"),
    ("models", r"\b(?:which|what) (?:deep learning |neural |dl |ml )?(?:models?|methods?|architectures?|networks?"
               r"|families|model families|approaches|algorithms?)\b|\bmodels? (?:for|used)\b"),
    ("studies", r"\b(?:which|what) (?:\w+ )?(?:studies|papers|articles|publications|works|research)\b"
                r"|\bstudies\b|\bpapers\b"),
]

_HYBRID = re.compile(r"(?<![\w-])([A-Za-z][\w+]*(?:-[A-Za-z][\w+]*)+)(?![\w-])")
_SUFFIX = re.compile(r"-(?:based|like|type|driven|style|family|variants?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Question:
    """A question as read: what it asks for, the concepts it names, and what was not understood."""

    text: str
    kind: AnswerKind | None
    concepts: tuple[Concept, ...] = ()
    hybrids: tuple[str, ...] = ()
    """Tokens such as ``VAE-GRU`` read as a hybrid of concepts named in the question (matched to candidate
    architectures of the graph by ``read.ask``)."""
    metric: str | None = None
    unknown: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()

    def by_facet(self) -> dict[Facet, list[str]]:
        """Concept IRIs per facet, a concept dropped when a broader one of the question already covers it."""
        index = concept_index()
        iris = {c.iri for c in self.concepts}
        out: dict[Facet, list[str]] = {}
        for c in self.concepts:
            if index.ancestors(c.iri) & iris:
                continue
            out.setdefault(c.facet, []).append(c.iri)
        return out


def stem(word: str) -> str:
    """A crude stem, enough to meet "predict"/"prediction", "map"/"mapping", "detect"/"detection"."""
    w = word.lower()
    for suffix in ("ations", "ation", "ions", "ion", "ings", "ing", "ed", "es", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            break
    if len(w) > 3 and w[-1] == w[-2]:
        w = w[:-1]
    return w


@functools.lru_cache(maxsize=1)
def _label_pattern() -> re.Pattern[str]:
    """Every concept label as one pattern, longest first ("InSAR time series" before "InSAR"), tolerant of case,
    hyphens and spacing, of a plural ending and of a "-based" suffix."""
    labels = {lab for c in concept_index().concepts.values() for lab in {*c.labels, c.notation or ""} if len(lab) >= 2}
    words = sorted({" ".join(lab.lower().replace("-", " ").split()) for lab in labels}, key=len, reverse=True)
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"[\s\-]+") for w in words)
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?:e?s)?(?=-based\b|-like\b|(?![\w-]))", re.IGNORECASE)


@functools.lru_cache(maxsize=1)
def _word_labels() -> tuple[tuple[frozenset[str], Concept, int], ...]:
    """(stems of a label's words other than "landslide", concept, rank) for every concept label of two or more
    words; rank 0 for preferred labels. Longest first."""
    out = []
    for c in concept_index().concepts.values():
        for rank, label in enumerate(c.labels):
            words = [stem(w) for w in re.findall(r"[A-Za-z0-9]+", label) if w.lower() not in {"landslide", "landslides"}]
            if len(words) >= 2 and len(set(words)) == len(words):
                out.append((frozenset(words), c, 0 if rank == 0 else 1))
    return tuple(sorted(out, key=lambda t: (-len(t[0]), t[2], t[1].iri)))


def _head_noun(word: str) -> Concept | None:
    """The concept a lone content word most plausibly names: "susceptibility" -> susceptibility mapping,
    "detection" -> landslide detection. Preferred labels only; the label that is just the word (after
    "landslide") first, then one that starts with it, then the shallowest concept."""
    s = stem(word)
    best: tuple[tuple[int, int, int], Concept] | None = None
    index = concept_index()
    for c in index.concepts.values():
        words = [stem(w) for w in re.findall(r"[A-Za-z0-9]+", c.pref_label) if w.lower() not in {"landslide"}]
        if s not in words:
            continue
        score = (0 if words == [s] else 1 if words[0] == s else 2, index.depth(c.iri), len(c.pref_label))
        if best is None or score < best[0]:
            best = (score, c)
    return best[1] if best else None


def _inner_phrases(label: str) -> list[tuple[set[int], str]]:
    """The runs of words of ``label`` shorter than itself, longest first, each with the positions of its words."""
    words = label.split()
    return [(set(range(i, i + n)), " ".join(words[i:i + n]))
            for n in range(len(words) - 1, 0, -1) for i in range(len(words) - n + 1)]


def read_question(text: str) -> Question:
    """What the question asks for and the concepts in it; no store needed."""
    index = concept_index()
    concepts: list[Concept] = []

    def add(concept: Concept) -> None:
        if concept not in concepts:
            concepts.append(concept)

    question = _SUFFIX.sub(" ", text)
    rest = question
    # 1. whole labels, longest first; inside one, the labels of other facets it holds ("rockfall detection" is a
    # task and names a landslide type)
    for m in _label_pattern().finditer(question):
        try:
            whole = index.resolve(m.group(0))
        except UnknownConceptError:
            continue
        add(whole)
        taken: set[int] = set()  # words of the inner labels already read: "debris flow", then not "flow"
        for positions, phrase in _inner_phrases(m.group(0)):
            if taken & positions:
                continue
            try:
                inner = index.resolve(phrase)
            except UnknownConceptError:
                continue
            if inner.facet != whole.facet:
                add(inner)
                taken |= positions
        rest = rest.replace(m.group(0), " ", 1)
    # 2. hybrids written with a hyphen (VAE-GRU), whose parts are concepts
    hybrids: list[str] = []
    hybrid_parts: list[list[Concept]] = []
    for m in _HYBRID.finditer(rest):
        parts = []
        for part in m.group(1).split("-"):
            try:
                parts.append(index.resolve(part, facet="model"))
            except UnknownConceptError:
                break
        else:
            if len(parts) >= 2:
                hybrids.append(m.group(1))
                hybrid_parts.append(parts)
                rest = rest.replace(m.group(1), " ", 1)
    # 3. a metric name
    metric = None
    for key in sorted(METRICS, key=len, reverse=True):
        pattern = re.compile(r"(?<![\w-])" + r"[\s\-]*".join(re.escape(ch) for ch in key) + r"(?![\w-])", re.IGNORECASE)
        found = pattern.search(rest)
        if found:
            metric = METRICS[key]
            rest = rest[:found.start()] + " " + rest[found.end():]
            break
    # 4. multi-word labels whose words all occur, in any order ("predict displacement" -> displacement prediction)
    words = re.findall(r"[A-Za-z][\w\-]*", rest)
    stems = {stem(w): w for w in words}
    position: dict[str, int] = {}
    for w in words:
        if w.lower() not in {"landslide", "landslides"}:
            position.setdefault(stem(w), len(position))
    matches = []
    for label_stems, concept, rank in _word_labels():
        if label_stems <= stems.keys() and any(stems[s].lower() not in QUESTION_WORDS for s in label_stems):
            places = [position[s] for s in label_stems if s in position]
            spread = max(places) - min(places) + 1 - len(places) if places else 0
            if spread <= 2:
                matches.append((-len(label_stems), spread, rank, concept.iri, label_stems, concept))
    for *_key, label_stems, concept in sorted(matches, key=lambda m: m[:4]):
        if label_stems <= stems.keys():  # its words not taken by a closer label
            add(concept)
            for s in label_stems:
                stems.pop(s, None)
    # 5. head nouns, and what is left is not understood
    unknown: list[str] = []
    suggestions: list[str] = []
    labels = sorted({lab for c in index.concepts.values() for lab in c.labels})
    for word in stems.values():
        if word.lower() in QUESTION_WORDS or len(word) < 3:
            continue
        head = _head_noun(word)
        if head is not None:
            add(head)
            continue
        unknown.append(word)
        suggestions.extend(x for x in difflib.get_close_matches(word, labels, n=3, cutoff=0.75) if x not in suggestions)
    for parts in hybrid_parts:  # "GRU, including VAE-GRU": covered by GRU; "CNN-GRU" alone: CNN or GRU
        named = {c.iri for c in concepts}
        if not any(p.iri in named or index.ancestors(p.iri) & named for p in parts):
            for p in parts:
                add(p)
    kind: AnswerKind | None = None
    for name, regex in _FORMS:
        if re.search(regex, text, re.IGNORECASE):
            kind = name
            break
    if kind == "metric" and metric is None and not re.search(r"\bmetrics?\b|\bperformance\b|\bscores?\b|\bhow "
                                                             r"(?:well|accurate)\b", text, re.IGNORECASE):
        kind = None  # "what is the ..." / "reported" without a metric: not a metric question
        for name, regex in _FORMS[3:]:
            if re.search(regex, text, re.IGNORECASE):
                kind = name
                break
    if kind is None and metric is not None:
        kind = "metric"
    if kind is None and concepts:
        kind = "studies"
    return Question(text=text, kind=kind, concepts=tuple(concepts), hybrids=tuple(hybrids), metric=metric,
                    unknown=tuple(unknown), suggestions=tuple(suggestions))
