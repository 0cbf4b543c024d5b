"""The whole flow on the seed review itself: review text -> graph -> recommendation with evidence."""

from __future__ import annotations

import pytest

from lskg.build import build
from lskg.kg import open_store
from lskg.settings import Settings


@pytest.mark.slow
@pytest.mark.seed
def test_seed_review_graph_recommends_rnn_for_insar_creeping_displacement(seed_text, tmp_path):
    from lskg.gnn import service

    settings = Settings(store=str(tmp_path / "store"))
    report = build([seed_text], settings, fmt="review")
    assert report.validation is not None and report.validation.conforms
    with open_store(settings.store) as store:
        answer = service.recommend(store, settings, data=["InSAR time series"], landslide_type=["creeping"],
                                   task=["displacement prediction"])
    first = answer["families"][0]
    assert first["label"] == "recurrent neural network", [f["label"] for f in answer["families"][:3]]
    assert first["support"], "the recommendation names the studies behind it"
    assert all(study["iri"].startswith("https://") and study["title"] for study in first["support"])
