"""``/ask``: a plain-English question answered by a SPARQL query, returned with the query
(``lskg.kg.read.ask``, the function `lskg ask` calls)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lskg.api.deps import StateDep
from lskg.api.ids import concept_ref
from lskg.api.schemas import AskAnswer, ErrorResponse
from lskg.kg import read

router = APIRouter(tags=["ask"])


@router.get("/ask", response_model=AskAnswer, responses={503: {"model": ErrorResponse}},
            summary="Answer a plain-English question with SPARQL")
def ask(state: StateDep, q: Annotated[str, Query(min_length=1, max_length=500, description="The question",
                                                 examples=list(read.EXAMPLES))]) -> AskAnswer:
    """Reads what the question asks for (which studies, models, data, landslide types or tasks; how many; what
    metric; what the review's Table 1 says) and the ontology concepts in it, runs the matching named query, and
    relaxes the question when it has no rows. The answer includes the SPARQL query it ran, to copy into /sparql
    and adapt, and the words it did not understand."""
    answer = read.ask(state.store, q)
    question = answer.question
    return AskAnswer(question=q, recognised=[concept_ref(c.iri) for c in question.concepts], template=answer.kind,
                     metric=question.metric, sparql=answer.sparql, columns=list(answer.columns),
                     rows=[dict(r) for r in answer.rows], message=answer.message, unknown=list(question.unknown),
                     suggestions=list(question.suggestions), relaxed=list(answer.relaxed))
