"""``/ask``: a plain-English question answered by a SPARQL query, returned with the query."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lskg.api import ask as asking
from lskg.api.deps import StateDep
from lskg.api.ids import concept_ref, text
from lskg.api.schemas import AskAnswer, ErrorResponse

router = APIRouter(tags=["ask"])

EXAMPLES = [
    "which models use InSAR for creeping landslides",
    "which studies use LSTM",
    "how many studies use InSAR",
    "which data sources are used with CNN",
]
HELP = ("Ask about models, studies, data sources, landslide types or tasks, naming ontology concepts, e.g. "
        + "; ".join(f"'{e}'" for e in EXAMPLES) + ". The concepts and their labels are listed at /concepts.")


@router.get("/ask", response_model=AskAnswer, responses={503: {"model": ErrorResponse}},
            summary="Answer a plain-English question with SPARQL")
def ask(state: StateDep, q: Annotated[str, Query(min_length=1, max_length=500, description="The question",
                                                 examples=EXAMPLES)]) -> AskAnswer:
    """Recognises ontology concepts in the question, chooses a question template and runs it. The answer
    includes the SPARQL query it ran, to copy into /sparql and adapt."""
    parsed = asking.recognise(q)
    recognised = [concept_ref(c.iri) for c in parsed.concepts]
    if parsed.template is None or (not parsed.concepts and parsed.template.name != "count"):
        words = ", ".join(repr(w) for w in parsed.unknown)
        message = (f"I did not recognise {words} as a concept of the ontology. " if parsed.unknown else
                   "I did not find an ontology concept in the question. ") + HELP
        if parsed.suggestions:
            message += " Did you mean: " + ", ".join(parsed.suggestions) + "?"
        return AskAnswer(question=q, recognised=recognised, message=message, unknown=parsed.unknown,
                         suggestions=parsed.suggestions)
    sparql, _params = asking.sparql_for(parsed)
    rows = state.store.select(sparql)
    columns = list(rows[0]) if rows else list(asking.queries.named_query(parsed.template.query).columns)
    out = [{k: text(v) for k, v in r.items()} for r in rows]
    about = ", ".join(c.pref_label for c in parsed.concepts) or "all studies"
    message = f"{len(out)} row(s) of {parsed.template.describe} for {about}."
    if parsed.template.name == "count" and out:
        message = f"{out[0].get('studies')} studies match {about}."
    if parsed.unknown:
        message += " Not recognised (ignored): " + ", ".join(parsed.unknown) + "."
    return AskAnswer(question=q, recognised=recognised, template=parsed.template.name, sparql=sparql,
                     columns=columns, rows=out, message=message, unknown=parsed.unknown,
                     suggestions=parsed.suggestions)
