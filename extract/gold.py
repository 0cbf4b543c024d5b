"""The gold standard: independent annotations of real studies, assembled with their texts, and its frozen splits.

A gold *folder* (``tests/data/gold/real``) holds:

* ``annotations-A-*.jsonl``: the primary annotation of each study (one JSON object per line, the fields of
  docs/annotation.md), made from the study's text by annotators who never saw the extractor;
* ``annotations-B-*.jsonl``: a second, independent annotation of a subset, for inter-annotator agreement;
* ``splits.json``: which studies are ``train``, ``dev`` and ``test``, and the SHA-256 of the assembled test split.

The texts are not copied into the gold: each annotation is joined by ``id`` with its record in the corpus (the
embedded corpus by default), and the joined records are what extraction reads and what the hash covers. A gold
*file* (JSONL with a ``text`` per record, the older self-contained form) is read as it is.

The test split is frozen: :func:`make_splits` never moves a study that is already in a split, new studies go to
``train``, and ``lskg evaluate extraction`` checks the test split's hash before scoring it.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lskg.errors import InputError

FACETS = ("families", "models", "data", "landslide_types", "tasks", "metrics", "place")
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class GoldStudy:
    """One annotated study: the text extraction reads, and the annotation per facet (plain labels)."""

    id: str
    title: str
    text: str
    year: int | None
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    annotator: str = ""

    def record(self) -> dict[str, Any]:
        """The self-contained JSON form (what the test split's hash covers)."""
        return {"id": self.id, "title": self.title, "text": self.text, "year": self.year,
                "annotator": self.annotator, **{k: list(v) for k, v in sorted(self.labels.items())}}


def _jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the gold file ({exc})", source=str(path)) from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg})", source=str(path), record=f"line {n}") from None
        if not isinstance(rec, dict) or not rec.get("id"):
            raise InputError("a gold record is a JSON object with an 'id'", source=str(path), record=f"line {n}")
        records.append(rec)
    return records


def _labels(rec: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    return {k: tuple(str(v) for v in rec.get(k) or ()) for k in FACETS if k in rec}


def read_annotations(folder: Path, annotator: str) -> dict[str, dict[str, Any]]:
    """Annotations of one annotator group (``A`` or ``B``) by study id; a study annotated twice is an error."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob(f"annotations-{annotator}-*.jsonl")):
        for rec in _jsonl(path):
            if rec["id"] in out:
                raise InputError(f"study {rec['id']!r} is annotated twice by group {annotator}", source=str(path))
            out[rec["id"]] = rec
    return out


def corpus_texts(corpus: Path) -> dict[str, dict[str, Any]]:
    """The corpus records by id (JSONL files of a folder, or one file)."""
    files = sorted(corpus.glob("*.jsonl")) if corpus.is_dir() else [corpus]
    return {rec["id"]: rec for path in files for rec in _jsonl(path)}


def _study(rec: dict[str, Any], ann: dict[str, Any]) -> GoldStudy:
    title = str(rec.get("title") or "")
    body = str(rec.get("abstract") or rec.get("text") or "")
    text = body if body.startswith(title) else f"{title}. {body}".strip(". ")
    year = rec.get("year")
    return GoldStudy(str(ann["id"]), title, text, int(year) if year else None, _labels(ann),
                     str(ann.get("annotator") or ""))


def assemble(folder: Path, corpus: Path, annotator: str = "A") -> dict[str, GoldStudy]:
    """Every study annotated by ``annotator``, joined with its text; an annotation of an unknown id is an error."""
    texts = corpus_texts(corpus)
    out = {}
    for ident, ann in read_annotations(folder, annotator).items():
        if ident not in texts:
            raise InputError(f"annotated study {ident!r} is not in the corpus", source=str(corpus),
                             hint="annotate only studies of the corpus, by their record id")
        out[ident] = _study(texts[ident], ann)
    return out


def read_splits(folder: Path) -> dict[str, Any]:
    path = folder / "splits.json"
    if not path.exists():
        raise InputError("the gold folder has no splits.json", source=str(folder),
                         hint="run `lskg evaluate split-gold` once to make the splits")
    return json.loads(path.read_text(encoding="utf-8"))


def split_hash(studies: Iterable[GoldStudy]) -> str:
    """SHA-256 of a split's assembled records (ids, texts and annotations), in id order."""
    body = "\n".join(json.dumps(s.record(), sort_keys=True, ensure_ascii=False) for s in sorted(studies, key=lambda s: s.id))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def load(gold: Path, split: str | None = None, corpus: Path | None = None) -> list[GoldStudy]:
    """The gold studies of a file, or of a folder's split (all annotated studies when ``split`` is None).

    Loading the test split checks its hash against splits.json and refuses a test split that has changed."""
    if gold.is_file():
        return [GoldStudy(str(r["id"]), str(r.get("title") or ""), str(r.get("text") or r.get("abstract") or ""),
                          r.get("year"), _labels(r), str(r.get("annotator") or "")) for r in _jsonl(gold)
                if r.get("text") or r.get("abstract")]
    from lskg.data import CORPUS

    studies = assemble(gold, corpus or CORPUS)
    if split is None:
        return [studies[k] for k in sorted(studies)]
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}", hint="use one of " + ", ".join(SPLITS))
    splits = read_splits(gold)
    missing = [i for i in splits[split] if i not in studies]
    if missing:
        raise InputError(f"the {split} split names {len(missing)} studies with no annotation: {missing[:3]}",
                         source=str(gold / "splits.json"))
    chosen = [studies[i] for i in sorted(splits[split])]
    if split == "test" and split_hash(chosen) != splits.get("test_sha256"):
        raise InputError("the frozen test split has changed (its SHA-256 differs from splits.json)",
                         source=str(gold), hint="the test split is frozen: restore its annotations and texts")
    return chosen


def make_splits(gold: Path, *, test: int, dev: int, seed: int = 0, corpus: Path | None = None) -> dict[str, Any]:
    """Assign annotated studies to splits, by study, at random with ``seed``; write splits.json.

    Studies already assigned keep their split; the test split is only drawn when there is none yet, so later
    annotations go to train and dev and the test split stays frozen."""
    from lskg.data import CORPUS

    studies = assemble(gold, corpus or CORPUS)
    path = gold / "splits.json"
    splits: dict[str, Any] = read_splits(gold) if path.exists() else {"seed": seed}
    assigned = {i for name in SPLITS for i in splits.get(name, [])}
    fresh = sorted(set(studies) - assigned)
    random.Random(seed).shuffle(fresh)
    if "test" not in splits:
        splits["test"], fresh = sorted(fresh[:test]), fresh[test:]
        splits["test_sha256"] = split_hash(studies[i] for i in splits["test"])
    need_dev = max(0, dev - len(splits.get("dev", [])))
    splits["dev"] = sorted([*splits.get("dev", []), *fresh[:need_dev]])
    splits["train"] = sorted([*splits.get("train", []), *fresh[need_dev:]])
    path.write_text(json.dumps(splits, indent=1) + "\n", encoding="utf-8")
    return splits
