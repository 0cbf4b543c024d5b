"""Importing spaCy for extraction without importing torch.

spaCy imports thinc, and thinc imports torch when it is installed (lskg installs it for the GNN) to offer PyTorch
layers that no extraction component uses. Importing torch is most of the cost of importing spaCy: on the 2-core
development machine, building the extraction pipeline took 4.8 CPU s with torch and 2.4 without. Importing this
module imports spaCy with torch hidden from that one import (thinc then records that torch is absent), unless
spaCy or torch is already loaded; torch stays importable afterwards, so the GNN in the same process is unaffected.

Import it before anything that imports spaCy (``from lskg.extract import startup`` above an ``# isort: split``).
"""

from __future__ import annotations

import importlib
import sys


def import_spacy_without_torch() -> None:
    """Import spaCy (and thinc) while ``import torch`` fails, if neither spaCy nor torch is loaded yet."""
    if "spacy" in sys.modules or "torch" in sys.modules:
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # (``import torch`` raises ImportError meanwhile)
    try:
        importlib.import_module("spacy")
    finally:
        del sys.modules["torch"]


import_spacy_without_torch()
