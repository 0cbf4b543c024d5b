"""How labels are compared: one folding for the ontology's lookups, the extractor's matching and the API.

    fold("U-Net") == fold("UNet") == fold("U Net") == "unet"
    fold("multi-temporal images") == fold("multi-temporal imagery")
"""

from __future__ import annotations

import re
import unicodedata

NON_KEY = re.compile(r"[^a-z0-9+]")
SPELLING = [(re.compile(p), r) for p, r in (
    (r"isation", "ization"), (r"ised\b", "ized"), (r"ising\b", "izing"), (r"yse\b", "yze"), (r"ysed\b", "yzed"),
    (r"lling\b", "ling"), (r"lled\b", "led"), (r"elling\b", "eling"), (r"ographic", "ographic"),
    (r"\bcolour", "color"), (r"\bmodelling", "modeling"), (r"centre\b", "center"),
    (r"\bimager(?:y|ies)\b", "image"), (r"\bimages\b", "image"),
)]
"""Spelling variants, and "images"/"imagery" as one word: "multi-temporal images" is "multi-temporal imagery"."""


def to_ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def fold(text: str) -> str:
    """The case-, hyphen-, space- and spelling-insensitive key of a label or a stretch of text."""
    text = to_ascii(text).lower()
    for pattern, repl in SPELLING:
        text = pattern.sub(repl, text)
    return NON_KEY.sub("", text)


def singular_forms(word: str) -> list[str]:
    """Candidate singulars of the last word of a mention: ``CNNs`` -> ``CNN``, ``studies`` -> ``study``."""
    forms = []
    lower = word.lower()
    if lower.endswith("ies") and len(word) > 4:
        forms.append(word[:-3] + ("Y" if word[-3:].isupper() else "y"))
    if lower.endswith(("ses", "xes", "ches", "shes")) and len(word) > 4:
        forms.append(word[:-2])
    if lower.endswith("s") and not lower.endswith("ss") and len(word) > 2:
        forms.append(word[:-1])
    return forms
