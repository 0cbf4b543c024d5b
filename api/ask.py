"""Plain-English questions to SPARQL: recognise ontology concepts in the question (by their labels), pick a
question template from the question word, bind the concepts as parameters of a named query, and return the
query with its answer so users can learn SPARQL from it.

    which models use InSAR for creeping landslides   -> models_for_context(data=InSAR, landslide_type=creeping)
    which studies use LSTM with GNSS                 -> studies_for_context(model=LSTM, data=GNSS)
    how many studies use InSAR                       -> api_ask_count(data=InSAR)
    which data sources are used with CNN             -> api_ask_concepts(target=usesData, model=CNN)
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field

from lskg.errors import UnknownConceptError
from lskg.kg import queries
from lskg.ontology import Concept, concept_index
from lskg.ontology.terms import FACET_PROPERTIES
from lskg.records import Facet

STOPWORDS = frozenset("""
a an the which what who how many much is are was were do does did use uses used using with for of in on to by
and or from that this these those study studies paper papers article articles model models method methods
architecture architectures family families data dataset datasets source sources landslide landslides type types
task tasks show list find give me all any there have has been most often common commonly applied apply
""".split())


@dataclass(frozen=True)
class Template:
    name: str
    query: str
    target: Facet | None = None
    """For api_ask_concepts: the facet asked for."""
    describe: str = ""


TEMPLATES = {
    "models": Template("models", "models_for_context", describe="model families and architectures"),
    "studies": Template("studies", "studies_for_context", describe="studies"),
    "count": Template("count", "api_ask_count", describe="the number of studies"),
    "data": Template("data", "api_ask_concepts", "data", describe="data sources"),
    "landslide_type": Template("landslide_type", "api_ask_concepts", "landslide_type", describe="landslide types"),
    "task": Template("task", "api_ask_concepts", "task", describe="tasks"),
}
_INTENTS = [  # first match wins
    ("count", r"\bhow many\b|\bnumber of\b|\bcount\b"),
    ("data", r"\bwhich (?:kinds? of )?(?:data|datasets?|data sources?|inputs?|sensors?|observations?)\b"
             r"|\bwhat (?:data|datasets?|data sources?|inputs?)\b"),
    ("landslide_type", r"\b(?:which|what) (?:kinds? of )?landslides?(?: types?)?\b|\blandslide types\b"),
    ("task", r"\b(?:which|what) (?:tasks?|problems?|applications?)\b"),
    ("models", r"\b(?:which|what) (?:deep learning |neural |dl )?(?:models?|methods?|architectures?|networks?"
               r"|families|model families|approaches|algorithms?)\b|\bmodels? (?:for|used)\b"),
    ("studies", r"\b(?:which|what) (?:studies|papers|articles|publications|works)\b|\bstudies\b|\bpapers\b"),
]


@dataclass
class Parsed:
    concepts: list[Concept] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    template: Template | None = None


@functools.lru_cache(maxsize=1)
def _label_pattern() -> re.Pattern[str]:
    """Every concept label as one pattern, longest first ("InSAR time series" before "InSAR"), tolerant of
    case, hyphens and spacing, and of a plural ending; what a match names is decided by ConceptIndex.resolve."""
    labels = {lab for c in concept_index().concepts.values() for lab in {*c.labels, c.notation or ""} if len(lab) >= 2}
    words = sorted({" ".join(lab.lower().replace("-", " ").split()) for lab in labels}, key=len, reverse=True)
    alternatives = "|".join(re.escape(w).replace(r"\ ", r"[\s\-]+") for w in words)
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?:e?s)?(?![\w-])", re.IGNORECASE)


def recognise(question: str) -> Parsed:
    parsed = Parsed()
    rest = question
    for m in _label_pattern().finditer(question):
        try:
            concept = concept_index().resolve(m.group(0))
        except UnknownConceptError:
            continue
        if concept not in parsed.concepts:
            parsed.concepts.append(concept)
        rest = rest.replace(m.group(0), " ")
    for name, regex in _INTENTS:
        if re.search(regex, question, re.IGNORECASE):
            parsed.template = TEMPLATES[name]
            break
    if parsed.template is None and parsed.concepts:
        parsed.template = TEMPLATES["studies"]
    labels = sorted({lab for c in concept_index().concepts.values() for lab in c.labels})
    for word in re.findall(r"[A-Za-z][\w\-]*", rest):
        if word.lower() in STOPWORDS or len(word) < 3:
            continue
        close = difflib.get_close_matches(word, labels, n=3, cutoff=0.75)
        if close or word.isupper() or any(ch.isdigit() for ch in word):
            parsed.unknown.append(word)
            parsed.suggestions.extend(s for s in close if s not in parsed.suggestions)
    return parsed


def sparql_for(parsed: Parsed) -> tuple[str, dict[str, list[str]]]:
    """The query text to run (prefixes trimmed to the ones it uses) and the bound parameters."""
    assert parsed.template is not None
    params: dict[str, list[str]] = {}
    for c in parsed.concepts:
        if c.facet == parsed.template.target:
            continue  # asking "which data sources ... InSAR": InSAR is the answer's facet, not a filter
        params.setdefault(c.facet, []).append(c.iri)
    if parsed.template.name == "models":
        params.pop("model", None)
    if parsed.template.target:
        params["target"] = [FACET_PROPERTIES[parsed.template.target].value]
    named = queries.named_query(parsed.template.query)
    params = {k: v for k, v in params.items() if k in named.params}
    text = queries.prepare(parsed.template.query, {k: v if named.params[k].many else v[0] for k, v in params.items()})
    return trim_prefixes(text), params


def trim_prefixes(text: str) -> str:
    lines = text.splitlines()
    body = "\n".join(line for line in lines if not line.startswith("PREFIX "))
    kept = [line for line in lines if line.startswith("PREFIX ")
            and re.search(rf"(?<![\w]){re.escape(line.split()[1])}", body)]
    return "\n".join([*kept, body.strip()])
