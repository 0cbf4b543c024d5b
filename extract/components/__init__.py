"""spaCy components of the extraction pipeline, registered with ``Language.factory`` under versioned names.

Order (see ``extract/config.cfg``): ``lskg.sentences.v1`` -> ``lskg.facet_ruler.v1`` -> ``lskg.paraphrases.v1`` -> ``lskg.abbreviations.v1``
-> ``lskg.candidates.v1`` -> ``lskg.roles.v1`` -> ``lskg.metrics.v1`` -> ``lskg.places.v1``.

They read a Doc's tokens, spans and sentences from one shared table per Doc (:mod:`.tokens`), not from Token
objects.
"""

from lskg.extract.components import (  # noqa: F401 - registers the factories
    abbreviations,
    candidates,
    facet_ruler,
    metrics,
    paraphrases,
    places,
    roles,
    sentences,
)
