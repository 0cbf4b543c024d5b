"""Data shipped with lskg: the embedded corpus (``corpus/``, one JSONL file per collection)."""

from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "corpus"
"""The embedded default corpus: paraphrased abstracts of published studies and the seed review's summaries."""
