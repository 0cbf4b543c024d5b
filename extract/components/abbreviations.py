"""``lskg.abbreviations.v1``: acronyms defined in the text ("long short-term memory (LSTM)", "temporal
convolutional network (TCN)") resolve later bare uses of the acronym to the concept of their long form.

The long form is found with the Schwartz-Hearst rule (the acronym's letters, in order, start words of the text
before the parenthesis). If the long form is exactly a concept mention, the acronym is an alias of that concept;
if the long form ends in a concept mention but adds modifiers ("attention-based residual network (ARN)"), the
acronym names a new architecture, recorded as a candidate under that concept's families. An acronym the text
defines as something else ("acoustic emission (AE)", "Alpha Evolution (AE)") is not read as the concept the same
letters label elsewhere (autoencoder).
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from lskg.extract.components.tokens import token_table
from lskg.extract.mentions import Mention, mentions, register_extensions

NAME = "lskg.abbreviations.v1"
FACTORY = "lskg_abbreviations_v1"
"""spaCy factory name (factories cannot contain dots); NAME is the versioned extractor name in Evidence."""
ACRONYM = re.compile(r"^(?=.*[A-Z].*[A-Z0-9])[A-Za-z][A-Za-z0-9-]{1,11}$")
ALIAS_CONFIDENCE = 0.8


def long_form_start(words: list[str], acronym: str) -> int | None:
    """Index into ``words`` where the long form of ``acronym`` starts (Schwartz-Hearst), or None."""
    letters = [c.lower() for c in acronym if c.isalnum()]
    if letters and letters[-1] == "s" and len(letters) > 2 and acronym[-1] == "s":
        letters = letters[:-1]  # "CNNs"
    text = " ".join(words)
    s = len(letters) - 1
    li = len(text) - 1
    while s >= 0:
        c = letters[s]
        while li >= 0 and (text[li].lower() != c or (s == 0 and li > 0 and text[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return None
        li -= 1
        s -= 1
    start_char = li + 1
    # back to the start of the word containing start_char
    while start_char > 0 and text[start_char - 1] not in " ":
        start_char -= 1
    count = text[:start_char].count(" ") if start_char else 0
    if len(words) - count > len(letters) + 5:
        return None
    return count


class AbbreviationResolver:
    def __init__(self) -> None:
        register_extensions()

    def __call__(self, doc: Doc) -> Doc:
        found = mentions(doc)
        tokens = token_table(doc)
        texts, n = tokens.text, len(tokens)
        defined: dict[str, list[Mention]] = {}
        long_forms: dict[str, str] = {}
        for i in (i for i, text in enumerate(texts) if text == "("):
            if i + 2 >= n or texts[i + 2] != ")":
                continue
            acronym = texts[i + 1]
            if not ACRONYM.match(acronym):
                continue
            window_start = max(tokens.sent_start[i], i - len(acronym) - 6)
            words = [texts[k] for k in range(window_start, i) if not tokens.space[k]]
            offset = long_form_start(words, acronym)
            if offset is None:
                continue
            long_start = window_start + offset
            long_forms.setdefault(acronym, tokens.span_text(long_start, i))
            ending = [m for m in found if m.end == i and m.start >= long_start]
            if not ending:
                continue
            defined[acronym] = [m for m in ending if m.start == long_start] or ending
            alias = any(m.start == long_start for m in ending)
            if not alias:  # modifiers + a known concept: a new named architecture
                for m in ending:
                    if m.facet == "model" and not m.candidate:
                        from lskg.ontology import candidate_iri

                        defined[acronym] = [Mention(0, 0, "model", candidate_iri(acronym), acronym, 0.6, NAME,
                                                    candidate=True, broader=(m.concept,),
                                                    cues=[f"acronym-of:{tokens.span_text(long_start, i)}"])]
                        break
        if long_forms:
            found[:] = [m for m in found if not _redefined(m, texts, long_forms, defined)]
        if not defined:
            return doc
        doc._.lskg_abbreviations = {k: [m.concept for m in v] for k, v in defined.items()}
        covered = {(m.start, m.facet) for m in found}
        for i, text in enumerate(texts):
            key = text if text in defined else text[:-1] if text[:-1] in defined else None
            if key is None:
                continue
            for m in defined[key]:
                if (i, m.facet) in covered:
                    continue
                inside = any(x.start <= i < x.end and x.facet == m.facet for x in found)
                if inside:
                    continue
                found.append(Mention(i, i + 1, m.facet, m.concept, m.label,
                                     min(m.confidence, ALIAS_CONFIDENCE) if not m.candidate else m.confidence,
                                     NAME, candidate=m.candidate, broader=m.broader, cues=[f"acronym:{key}"]))
        return doc


def _stems(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z]{4,}", text.lower())}


def _redefined(m: Mention, texts: list[str], long_forms: dict[str, str], defined: dict[str, list[Mention]]) -> bool:
    """A one-token mention of an acronym the text defines as something else: "acoustic emission (AE)" makes "AE"
    no autoencoder. The text's own definition wins unless it names the mention's concept (a mention of it ends the
    long form) or shares a word stem with its label ("convolutional neural nets (CNN)")."""
    if m.end - m.start != 1 or m.candidate:
        return False
    text = texts[m.start]
    key = text if text in long_forms else text[:-1] if text[:-1] in long_forms else None
    if key is None or any(d.concept == m.concept for d in defined.get(key, ())):
        return False
    return not _stems(long_forms[key]) & _stems(m.label)


@Language.factory(FACTORY)
def make_abbreviations(nlp: Language, name: str) -> AbbreviationResolver:
    return AbbreviationResolver()
