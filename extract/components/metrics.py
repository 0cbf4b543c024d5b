"""``lskg.metrics.v1``: reported performance figures with their values and units.

"accuracy 93%", "an F1-score of 0.88", "F1 87.94%", "RMSE 3.2 mm", "R2 0.95", "R² of 0.95", "AUC 0.91", "an IoU of
0.77", "overall accuracy of 91.25%", "93% accuracy", "kappa = 0.81". Metric names are a closed list of evaluation
measures (they are not ontology concepts); the value must follow the name within a few words (or precede it
directly, with a % sign).
"""

from __future__ import annotations

import re
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from lskg.extract.components.tokens import token_table
from lskg.extract.mentions import MetricMention, register_extensions

NAME = "lskg.metrics.v1"
FACTORY = "lskg_metrics_v1"
"""spaCy factory name (factories cannot contain dots); NAME is the versioned extractor name in Evidence."""
METRICS: dict[str, str] = {
    # surface pattern -> canonical name
    r"overall accuracy|OA": "overall accuracy",
    r"accuracy|ACC": "accuracy",
    r"F1[- ]?scores?|F1|F-measure|F-score|Dice(?: coefficient| score)?": "F1",
    r"mean intersection over union|mIoU|MIoU": "mIoU",
    r"intersection over union|IoU": "IoU",
    r"precision": "precision",
    r"recall|sensitivity|true positive rate": "recall",
    r"specificity": "specificity",
    r"RMSE|root mean squared? error": "RMSE",
    r"MAE|mean absolute error": "MAE",
    r"MAPE|mean absolute percentage error": "MAPE",
    r"MSE|mean squared error": "MSE",
    r"R2|R\u00b2|R\^2|coefficient of determination": "R2",
    r"AUC|AUROC|area under the (?:ROC )?curve|ROC[- ]AUC": "AUC",
    r"kappa(?: coefficient)?|Cohen's kappa|kappa index": "kappa",
    r"mAP|mean average precision|AP50|AP": "mAP",
    r"correlation coefficient|Pearson's r": "correlation",
    r"coverage probability|PICP": "coverage",
    r"NSE|Nash[- ]Sutcliffe efficiency": "NSE",
}
CASE_SENSITIVE = {"OA", "ACC", "mAP", "AP", "AP50", "MSE", "MAE", "NSE"}
NAMES = "|".join(f"(?:{p})" for p in METRICS)
NUMBER = r"(?P<value>\d+(?:\.\d+)?)"
UNIT = r"\s?(?P<unit>%|percent\b|mm(?:/(?:d|day|yr|year|a))?\b|cm\b|m\b|km\b|pixels?\b)?"
AFTER = re.compile(rf"(?<![\w-])(?P<name>{NAMES})(?![\w-])(?:\s*\([A-Za-z0-9 ]+\))?"
                   rf"(?:\s+(?:score|value|index|rate))?[\s,]*(?:(?:of|was|were|is|are|reached|reaching|achieved|"
                   rf"achieving|attained|up to|about|approximately|around|nearly|over|above|exceeding|=|:|≈|~|"
                   rf"as high as|as low as|by)\s*){{0,3}}{NUMBER}{UNIT}", re.IGNORECASE)
BEFORE = re.compile(rf"{NUMBER}\s?(?P<unit>%)\s+(?:(?:overall|mean|average|higher|lower|in|of)\s+)?"
                    rf"(?P<name>{NAMES})(?![\w-])", re.IGNORECASE)


@lru_cache(maxsize=1 << 12)
def canonical(name: str) -> str | None:
    """The canonical metric name of a surface form (``F1-score`` -> ``F1``), or None; memoized (the decision stage
    asks for every candidate model name)."""
    for pattern, canon in METRICS.items():
        if re.fullmatch(pattern, name, re.IGNORECASE):
            alternatives = pattern.split("|")
            if any(a in CASE_SENSITIVE and re.fullmatch(a, name, re.IGNORECASE) for a in alternatives) and \
                    not any(re.fullmatch(a, name) for a in alternatives):
                return None  # "map", "oa" in ordinary text
            return canon
    return None


def find_metrics(text: str) -> list[tuple[int, int, str, float, str | None]]:
    """(start, end, name, value, unit) of every metric figure in ``text``."""
    out: list[tuple[int, int, str, float, str | None]] = []
    taken: list[tuple[int, int]] = []
    for pattern in (AFTER, BEFORE):
        for match in pattern.finditer(text):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            name = canonical(match.group("name"))
            if name is None:
                continue
            value = float(match.group("value"))
            unit = match.group("unit") or None
            unit = "%" if unit == "percent" else unit
            if unit == "%" and value > 100 or unit is None and name in {"accuracy", "F1", "IoU", "mIoU", "AUC",
                                                                         "precision", "recall", "kappa"} and value > 100:
                continue
            if re.match(r"(?:19|20)\d\d$", match.group("value")) and unit is None:
                continue  # a year
            out.append((match.start(), match.end(), name, value, unit))
            taken.append((match.start(), match.end()))
    return sorted(out)


class MetricFinder:
    def __init__(self) -> None:
        register_extensions()

    def __call__(self, doc: Doc) -> Doc:
        doc._.lskg_metrics = [MetricMention(s, e, name, value, unit, NAME)
                              for s, e, name, value, unit in find_metrics(token_table(doc).doc_text)]
        return doc


@Language.factory(FACTORY)
def make_metrics(nlp: Language, name: str) -> MetricFinder:
    return MetricFinder()
