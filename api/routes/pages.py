"""The web page at ``/``: query box, examples, results with links to studies and evidence, recommendation form,
gap maps. Static files only (no CDN); the page talks to the JSON endpoints."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from lskg.api.pages import templates
from lskg.api.routes.ask import EXAMPLES as QUESTIONS

router = APIRouter(include_in_schema=False)

INSAR_CREEPING = """SELECT ?model ?modelLabel ?study ?title WHERE {{
  ?study a lskg:Study ; dcterms:title ?title ;
         lskg:usesData/skos:broader* {data} ;
         lskg:targetsLandslideType/skos:broader* {landslide} ;
         lskg:usesModel ?model .
  ?model skos:prefLabel ?modelLabel .{filters}
}}
ORDER BY ?modelLabel ?title"""


def insar_creeping_query() -> str:
    """The flagship example, with the concepts' IRIs when the ontology has them (else matched by label)."""
    from lskg.errors import UnknownConceptError
    from lskg.ontology import concept_index
    from lskg.ontology.terms import PREFIXES

    def term(label: str, facet: str) -> str | None:
        try:
            iri = concept_index().resolve(label, facet=facet).iri  # type: ignore[arg-type]
        except (UnknownConceptError, OSError):
            return None
        for prefix, ns in PREFIXES.items():
            local = iri[len(ns.iri):]
            if iri.startswith(ns.iri) and local.replace("_", "").replace("-", "").isalnum():
                return f"{prefix}:{local}"
        return f"<{iri}>"

    data, landslide = term("InSAR", "data"), term("creeping", "landslide_type")
    filters = ""
    if data is None:
        filters += '\n  ?d skos:prefLabel|skos:altLabel ?dl . FILTER(CONTAINS(LCASE(STR(?dl)), "insar"))'
    if landslide is None:
        filters += '\n  ?l skos:prefLabel|skos:altLabel ?ll . FILTER(CONTAINS(LCASE(STR(?ll)), "creep"))'
    return INSAR_CREEPING.format(data=data or "?d", landslide=landslide or "?l", filters=filters)


EXAMPLE_QUERIES = [
    ("Studies per model family", """SELECT ?family ?label (COUNT(DISTINCT ?study) AS ?studies) WHERE {
  ?family a lskg:ModelFamily ; skos:prefLabel ?label .
  ?study lskg:usesModel/skos:broader* ?family .
}
GROUP BY ?family ?label
ORDER BY DESC(?studies)"""),
    ("Evidence sentences for LSTM", """SELECT ?study ?title ?sentence WHERE {
  ?study lskg:hasFact ?fact ; dcterms:title ?title .
  ?fact lskg:factObject model:LSTM ; prov:wasDerivedFrom ?evidence .
  ?evidence lskg:sentence ?sentence .
}
LIMIT 50"""),
    ("Latest studies", """SELECT ?study ?title ?year WHERE {
  ?study a lskg:Study ; dcterms:title ?title ; fabio:hasPublicationYear ?year .
}
ORDER BY DESC(?year)
LIMIT 25"""),
]


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    from lskg.ontology.terms import sparql_prefixes

    examples = [("Which models use InSAR for creeping landslides?", insar_creeping_query()), *EXAMPLE_QUERIES]
    return templates().TemplateResponse(request, "index.html", {
        "examples": examples, "questions": QUESTIONS, "prefixes": sparql_prefixes()})
