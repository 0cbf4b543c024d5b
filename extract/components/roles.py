"""``lskg.roles.v1``: the role of each mention in its study — proposed, applied, baseline or only mentioned.

Cues are a small closed list of function words and comparison/hedging verbs (not concept names):

* baseline: a model governed by a comparison cue in the same clause ("outperformed SVM and random forest",
  "compared with", "than the RF model", "superior to", "versus") or labelled so ("a UNet baseline", "used as
  benchmarks"); a fronted "Compared with X, ..." governs only up to its comma;
* mentioned: negated, contrasted or future-work mentions ("unlike InSAR-based methods", "instead of", "could be
  extended to GNNs", "in future work"); they are kept with role ``mentioned`` and do not count as facts a study
  uses;
* proposed: models (and candidate architectures) in a sentence that proposes ("we propose", "a novel", "this study
  develops"), or in the title;
* applied: everything else.
"""

from __future__ import annotations

import re

from spacy.language import Language
from spacy.tokens import Doc

from lskg.extract.components.tokens import TokenTable, token_table
from lskg.extract.mentions import Mention, mentions, register_extensions
from lskg.records import Role

NAME = "lskg.roles.v1"
FACTORY = "lskg_roles_v1"
"""spaCy factory name (factories cannot contain dots); NAME is the versioned extractor name in Evidence."""
BASELINE_BEFORE = re.compile(
    r"\b(outperform(?:s|ed|ing)?|surpass(?:es|ed|ing)?|beat(?:s|ing)?|exceed(?:s|ed|ing)?|compared (?:with|to|against)|"
    r"comparisons? (?:with|to|against)|in comparison (?:with|to)|than|versus|vs\.?|superior to|better than|"
    r"relative to|against|benchmarked against|over (?:the )?(?:baseline|conventional|traditional))\b", re.IGNORECASE)
BASELINE_AFTER = re.compile(r"^\W*(?:\w+\W+){0,2}?(?:baselines?|benchmarks?|for comparison|as (?:a |the )?(?:baselines?|"
                            r"benchmarks?|references?|comparisons?))\b", re.IGNORECASE)
MENTIONED_BEFORE = re.compile(
    r"\b(unlike|instead of|rather than|in contrast to|contrary to|without|not(?! only)|"
    r"(?:could|can|might|may|would|will) (?:also )?be (?:extended|applied|adapted|explored|combined|used|integrated)"
    r"(?: to| with| in)?|future (?:work|research|studies)|in the future|yet to|has not|have not|had not|lack(?:s|ing)?)\b",
    re.IGNORECASE)
MENTIONED_SENTENCE = re.compile(r"\b(future (?:work|research|studies|directions?)|in the future|further research)\b",
                                re.IGNORECASE)
BACKGROUND_SENTENCE = re.compile(
    r"\b(?:(?:is|are|has been|have been) (?:widely|commonly|often|traditionally|frequently|extensively|usually) "
    r"(?:used|applied|adopted|employed)|(?:traditional|conventional|existing|previous|earlier|classical) "
    r"(?:\w+[- ])?(?:methods?|approaches|studies|techniques|works?|research)|previous(?:ly)? (?:studies|work|research)|"
    r"(?:most|many) (?:existing |previous )?(?:studies|methods|approaches))\b", re.IGNORECASE)
USING_SENTENCE = re.compile(r"\b(?:we|our|this (?:study|paper|work|article)|here(?:in)?|in this (?:study|paper|work))\b",
                            re.IGNORECASE)
"""A data source named only in a background sentence ("InSAR is widely used, but ...", "traditional methods rely on
optical images") is mentioned, not used, unless the sentence also speaks of this study ("we", "this study")."""
PRODUCING_BEFORE = re.compile(
    r"\b(?:produc(?:e|es|ed|ing)|generat(?:e|es|ed|ing)|synthesi[sz](?:e|es|ed|ing)|creat(?:e|es|ed|ing)|"
    r"output(?:s|ted)?|yield(?:s|ed|ing)?|compil(?:e|es|ed|ing)|deliver(?:s|ed|ing)?|reconstruct(?:s|ed|ing)?|"
    r"resulting)\b", re.IGNORECASE)
"""A data source that is the object of a producing verb ("to produce an inventory of landslide events", "a GAN
synthesises landslide images") is what the study makes, not data it uses; not when a source preposition comes
between ("an inventory was compiled from Google Earth images", "maps produced using Sentinel-2"): that is input."""
SOURCE_BETWEEN = re.compile(r"\b(?:from|using|with|based on|by|via|through|on|of)\b", re.IGNORECASE)
PROPOSING = re.compile(r"\b(we (?:propose|present|introduce|develop|design|build|construct)|(?:is|are|was|were) proposed|"
                       r"propos(?:es|ed|ing)|a novel|this (?:study|paper|work|article) (?:proposes|presents|"
                       r"introduces|develops|designs)|we call|named|termed|dubbed)\b", re.IGNORECASE)
CLAUSE_BREAK = re.compile(r"[;:]|\b(?:while|whereas|but|although|though|which|where|however)\b|, (?:and |but )?"
                          r"(?:the|this|these|it|its|our|we|they|a|an)\b", re.IGNORECASE)
MAX_GOVERN_CHARS = 160


def _governed(text_between: str) -> bool:
    """A cue governs a mention when no clause boundary separates them."""
    return len(text_between) <= MAX_GOVERN_CHARS and not CLAUSE_BREAK.search(text_between)


def _last_match(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    matches = list(pattern.finditer(text))
    return matches[-1] if matches else None


class RoleAssigner:
    def __init__(self) -> None:
        register_extensions()

    def __call__(self, doc: Doc) -> Doc:
        found = mentions(doc)
        if not found:
            return doc
        tokens = token_table(doc)
        title_end = doc._.lskg_title_end
        for start, end in tokens.sentences():
            in_sent = [m for m in found if start <= m.start < end]
            if in_sent:
                self._assign(tokens, start, end, in_sent, is_title=start == 0 and title_end is not None
                             and tokens.end_char(end - 1) <= title_end)
        return doc

    def _assign(self, tokens: TokenTable, sent_start: int, sent_end: int, items: list[Mention],
                is_title: bool) -> None:
        text = tokens.span_text(sent_start, sent_end)
        base = tokens.idx[sent_start]

        def rel(m: Mention) -> tuple[int, int]:
            return tokens.idx[m.start] - base, tokens.end_char(m.end - 1) - base

        future = bool(MENTIONED_SENTENCE.search(text))
        background = bool(BACKGROUND_SENTENCE.search(text)) and not USING_SENTENCE.search(text) and not is_title
        proposing = PROPOSING.search(text)
        for m in items:
            start, end = rel(m)
            before = text[:start]
            role: Role = "applied"
            cue = ""
            neg = self._last_governing(MENTIONED_BEFORE, before)
            if future or neg:
                role, cue = "mentioned", "future" if future else neg
            elif background and m.facet == "data":
                role, cue = "mentioned", "background"
            elif m.facet == "data" and (made := self._last_governing(PRODUCING_BEFORE, before, 40)) and \
                    (produced := _last_match(PRODUCING_BEFORE, before)) is not None and \
                    not SOURCE_BETWEEN.search(before[produced.end():]):
                role, cue = "mentioned", f"output {made}"
            elif m.facet == "model":
                base_cue = self._baseline_cue(before)
                after = BASELINE_AFTER.match(text[end:])
                if base_cue or after:
                    role, cue = "baseline", base_cue or (after.group(0).strip() if after else "")
                elif is_title and m.candidate:
                    role, cue = "proposed", "title"
                elif proposing and (m.candidate or proposing.start() < start) and \
                        _governed(text[proposing.end():start]) and start - proposing.end() < 80:
                    role, cue = "proposed", proposing.group(0)
            m.role = role
            if cue:
                m.cues.append(f"{role}:{cue.lower()}")

    @staticmethod
    def _last_governing(pattern: re.Pattern[str], before: str, reach: int = 60) -> str:
        last = _last_match(pattern, before)
        if last is None:
            return ""
        return last.group(0) if _governed(before[last.end():]) and len(before) - last.end() < reach else ""

    @staticmethod
    def _baseline_cue(before: str) -> str:
        last = _last_match(BASELINE_BEFORE, before)
        if last is None:
            return ""
        between = before[last.end():]
        fronted = last.start() <= 12  # "Compared with X, Y ..." governs only up to its comma
        if fronted and "," in between:
            return ""
        if not fronted and not _governed(between):
            return ""
        return last.group(0) if len(between) <= MAX_GOVERN_CHARS else ""


@Language.factory(FACTORY)
def make_roles(nlp: Language, name: str) -> RoleAssigner:
    return RoleAssigner()
