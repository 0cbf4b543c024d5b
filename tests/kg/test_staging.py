"""The staging graph a build maps its studies into as extraction hands them over: all of each study's quads, loaded
in batches, the studies that merging changed mapped again, with the cyclic garbage collector paused while mapping and
restored afterwards."""

from __future__ import annotations

import gc

import pytest

from lskg.build import BuildReport, Staging, _gc_paused, merge_duplicates
from lskg.kg import mapping
from lskg.ontology import ontology_quads
from lskg.records import Evidence, Fact, Study, StudyFacts


def _study(n: int, *, model: str = "LSTM", title: str | None = None, **study) -> StudyFacts:
    evidence = Evidence(document=f"corpus.jsonl#{n}", sentence=f"We train an {model} on InSAR time series.", start=12,
                        end=12 + len(model), span=model, extractor="facet_ruler", confidence=0.9)
    return StudyFacts(Study(id=str(n), title=title or f"Landslide displacement forecasting {n}", year=2021,
                            source="corpus", **study),
                      facts=[Fact("model", f"https://w3id.org/lskg/concept/model/{model}", model, evidence)])


def _staged(items: list[StudyFacts], progress=None) -> tuple[list[StudyFacts], set]:
    """``items`` through a staging graph as a build does (each added as it arrives, then merged, then finished)."""
    report = BuildReport(store="", sources=[])
    staging = Staging(report)
    for item in items:
        staging.add(item)
    studies, grown = merge_duplicates(items)
    staging.merged(items, studies, grown)
    quads = set(staging.finish(studies, progress).quads())
    assert report.quads == len(quads) - len(set(ontology_quads()))
    return studies, quads


def test_the_staging_graph_holds_the_ontology_and_every_study():
    studies = [_study(n) for n in range(3)]
    progress = []
    kept, quads = _staged(studies, lambda *args: progress.append(args))
    assert kept == studies
    assert quads == {*ontology_quads(), *(q for item in studies for q in mapping.study_quads(item))}
    assert progress == [("map", 3, 3)]


def test_studies_merged_after_they_were_staged_are_staged_as_merged():
    items = [
        _study(1, title="Creep at Huangtupo"),
        _study(2, model="GRU", title="Creep at Huangtupo"),  # the same title and year: one study with both models
        _study(3, title="Review summary of a crack study"),
        _study(4, model="UNet", title="Crack detection on slopes", doi="10.1/crack", same_as=("3",)),
        _study(5),
    ]
    graphs_before = {mapping.study_graph(item) for item in items}
    summary_graph = mapping.study_graph(items[2])
    studies, quads = _staged(items)
    assert len(studies) == 3
    expected = {*ontology_quads(), *(q for item in studies for q in mapping.study_quads(item))}
    assert quads == expected
    merged = next(s for s in studies if s.study.doi)
    assert mapping.study_graph(merged) in graphs_before and {f.label for f in merged.facts} == {"LSTM", "UNet"}
    assert not any(q.graph_name == summary_graph for q in quads), "the summary's own graph is gone"


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
