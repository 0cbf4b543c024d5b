"""The staging graph a build maps its studies into: all of each study's quads, loaded in batches, with the cyclic
garbage collector paused while mapping and restored afterwards."""

from __future__ import annotations

import gc

import pytest

from lskg.build import BuildReport, _gc_paused, _stage
from lskg.kg import mapping
from lskg.ontology import ontology_quads
from lskg.records import Evidence, Fact, Study, StudyFacts


def _study(n: int) -> StudyFacts:
    evidence = Evidence(document=f"corpus.jsonl#{n}", sentence="We train an LSTM on InSAR time series.", start=11,
                        end=15, span="LSTM", extractor="facet_ruler", confidence=0.9)
    return StudyFacts(Study(id=str(n), title=f"Landslide displacement forecasting {n}", year=2021, source="corpus"),
                      facts=[Fact("model", "https://w3id.org/lskg/concept/model/LSTM", "LSTM", evidence)])


def test_the_staging_graph_holds_the_ontology_and_every_study():
    studies = [_study(n) for n in range(3)]
    progress = []
    staging = _stage(studies, BuildReport(store="", sources=[]), lambda *args: progress.append(args))
    expected = {*ontology_quads(), *(q for item in studies for q in mapping.study_quads(item))}
    assert set(staging.quads()) == expected
    assert progress == [("map", 3, 3)]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_while_mapping_and_then_left_as_it_was(enabled):
    (gc.enable if enabled else gc.disable)()
    try:
        with pytest.raises(RuntimeError), _gc_paused():
            assert not gc.isenabled()
            raise RuntimeError("mapping failed")
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
