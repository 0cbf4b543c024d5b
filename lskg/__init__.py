"""lskg: a knowledge graph of deep learning for potential-landslide identification.

The package is one data flow (see docs/design.md):

    corpus files / OpenAlex -> lskg.extract -> lskg.kg (store) -> lskg.gnn -> lskg.api / lskg.cli

Heavy dependencies (spaCy, torch) are imported lazily by the modules that need them.
"""

__version__ = "0.1.0"
