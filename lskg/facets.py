"""The Facet registry: everything known about each of the four facets, in one table.

    FACET_INFO["landslide_type"].plural == "landslide types"
    FACET_INFO["data"].predicate == LSKG.usesData

Code that needs a facet's words, IRIs or option name reads them here instead of keeping its own dict (the
scheme and property IRIs themselves are spelled in ``ontology.terms``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pyoxigraph import NamedNode

from lskg.ontology.terms import FACET_PROPERTIES, FACET_SCHEMES, LSKG
from lskg.records import FACETS, Facet


@dataclass(frozen=True)
class FacetInfo:
    name: Facet
    """The key in JSON, query parameters and records: ``landslide_type``."""
    label: str
    """In words, singular: ``landslide type``."""
    plural: str
    title: str
    """A heading: ``Landslide types``."""
    scheme: NamedNode
    predicate: NamedNode
    """The direct study-level property (``lskg:usesData``)."""
    typical: NamedNode | None
    """The review's Table 1 property for this facet (``lskg:typicalData``); None for models (the row's family)."""
    edge: str
    """The edge name in the GNN's heterogeneous graph (``uses_data``)."""

    @property
    def option(self) -> str:
        """The CLI option: ``--landslide-type``."""
        return "--" + self.name.replace("_", "-")


FACET_INFO: Mapping[Facet, FacetInfo] = {
    "model": FacetInfo("model", "model", "models", "Models", FACET_SCHEMES["model"], FACET_PROPERTIES["model"],
                       None, "uses_model"),
    "data": FacetInfo("data", "data source", "data sources", "Data sources", FACET_SCHEMES["data"],
                      FACET_PROPERTIES["data"], LSKG.typicalData, "uses_data"),
    "landslide_type": FacetInfo("landslide_type", "landslide type", "landslide types", "Landslide types",
                                FACET_SCHEMES["landslide_type"], FACET_PROPERTIES["landslide_type"],
                                LSKG.typicalLandslideType, "targets_landslide_type"),
    "task": FacetInfo("task", "task", "tasks", "Tasks", FACET_SCHEMES["task"], FACET_PROPERTIES["task"],
                      LSKG.typicalTask, "addresses_task"),
}
assert tuple(FACET_INFO) == FACETS

PROPERTY_FACET: Mapping[str, Facet] = {info.predicate.value: f for f, info in FACET_INFO.items()} | {
    LSKG.comparesWith.value: "model"}
"""The facet of a study-level property (a baseline's ``lskg:comparesWith`` is a model)."""

CONTEXT_FACETS: tuple[Facet, ...] = ("data", "landslide_type", "task")
"""The facets that describe a study's context (everything but the model)."""
