"""Checks of the ontology files: syntax, SKOS hygiene, the closed TBox, SHACL shapes and the review synthesis."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from pathlib import Path

import networkx as nx
import pyoxigraph
import pytest
from pyshacl import validate
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, PROV, SH, SKOS

from lskg.ontology.terms import FAMILY_NAMES, LSKG_TERMS

ROOT = Path(__file__).resolve().parents[2]
ONTOLOGY = ROOT / "ontology"
FIXTURES = ROOT / "tests" / "data" / "ontology"
CONCEPT_FILES = sorted((ONTOLOGY / "concepts").glob("*.ttl"))
ALL_TTL = sorted(ONTOLOGY.rglob("*.ttl"))

BASE = "https://w3id.org/lskg/"
LSKG = Namespace(BASE + "ontology/")
SCHEME = Namespace(BASE + "scheme/")
COLLECTION = Namespace(BASE + "collection/")
MODEL = Namespace(BASE + "concept/model/")
DATA = Namespace(BASE + "concept/data/")
LANDSLIDE = Namespace(BASE + "concept/landslide/")
TASK = Namespace(BASE + "concept/task/")
STUDY = Namespace(BASE + "study/")
FACT = Namespace(BASE + "fact/")
EVIDENCE = Namespace(BASE + "evidence/")
CANDIDATE = Namespace(BASE + "concept/candidate/")
GAP = Namespace(BASE + "gap/")
SYNTHESIS = Namespace(BASE + "synthesis/")
DCTERMS = Namespace("http://purl.org/dc/terms/")

# scheme -> (concept namespace, the lskg classes its concepts may carry)
SCHEMES = {
    SCHEME.ModelFamily: (str(MODEL), {LSKG.ModelFamily, LSKG.Architecture}),
    SCHEME.DataSource: (str(DATA), {LSKG.DataSource}),
    SCHEME.LandslideType: (str(LANDSLIDE), {LSKG.LandslideType, LSKG.TriggerType, LSKG.MovementType}),
    SCHEME.Task: (str(TASK), {LSKG.Task}),
}


def load(*paths: Path) -> Graph:
    graph = Graph()
    for path in paths:
        graph.parse(path, format="turtle")
    return graph


@pytest.fixture(scope="module")
def concepts() -> Graph:
    return load(*CONCEPT_FILES)


@pytest.fixture(scope="module")
def ontology() -> Graph:
    """Everything validation sees besides instance data: TBox, concept schemes and the review synthesis."""
    return load(*(p for p in ALL_TTL if p.name != "shapes.ttl"))


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load(ONTOLOGY / "shapes.ttl")


def concepts_by_scheme(graph: Graph) -> dict[URIRef, set[URIRef]]:
    out: dict[URIRef, set[URIRef]] = defaultdict(set)
    for concept in graph.subjects(RDF.type, SKOS.Concept):
        for scheme in graph.objects(concept, SKOS.inScheme):
            out[scheme].add(concept)
    return out


def labels(graph: Graph, concept: URIRef) -> list[Literal]:
    return [*graph.objects(concept, SKOS.prefLabel), *graph.objects(concept, SKOS.altLabel)]


# --------------------------------------------------------------------------- syntax


@pytest.mark.parametrize("path", ALL_TTL, ids=lambda p: str(p.relative_to(ONTOLOGY)))
def test_every_turtle_file_parses(path: Path) -> None:
    quads = list(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE))
    assert quads, f"{path.name} is empty"


def test_expected_files_exist() -> None:
    names = {p.relative_to(ONTOLOGY).as_posix() for p in ALL_TTL}
    assert {"lskg.ttl", "shapes.ttl", "review-synthesis.ttl", "concepts/model-families.ttl",
            "concepts/data-sources.ttl", "concepts/landslide-types.ttl", "concepts/tasks.ttl"} <= names


def test_no_absolute_paths_in_ontology_files() -> None:
    for path in ALL_TTL:
        assert not re.search(r"(?<![\w.])/(work|home|tmp|root)/", path.read_text()), path.name


# --------------------------------------------------------------------------- TBox


def test_tbox_declares_exactly_the_closed_term_list() -> None:
    tbox = load(ONTOLOGY / "lskg.ttl")
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    declared = {str(s)[len(str(LSKG)):] for kind in kinds for s in tbox.subjects(RDF.type, kind) if str(s).startswith(str(LSKG))}
    assert declared - LSKG_TERMS == set(), "declared in lskg.ttl but missing from LSKG_TERMS"
    assert LSKG_TERMS - declared == set(), "listed in LSKG_TERMS but not declared in lskg.ttl"
    for term in declared:
        iri = LSKG[term]
        assert (iri, RDFS.label, None) in tbox and (iri, RDFS.comment, None) in tbox, term


def test_no_file_uses_an_undeclared_lskg_term() -> None:
    for path in ALL_TTL:
        graph = load(path)
        used = {str(t) for triple in graph for t in triple if isinstance(t, URIRef) and str(t).startswith(str(LSKG))}
        unknown = {t[len(str(LSKG)):] for t in used} - LSKG_TERMS
        assert not unknown, f"{path.name} uses {sorted(unknown)}"


def test_tbox_reuses_standard_vocabularies() -> None:
    tbox = load(ONTOLOGY / "lskg.ttl")
    fabio = Namespace("http://purl.org/spar/fabio/")
    expected = {
        LSKG.Study: fabio.Expression, LSKG.Evidence: PROV.Entity, LSKG.Extractor: PROV.SoftwareAgent,
        LSKG.GapAnalysis: PROV.Activity, LSKG.TriggerType: LSKG.LandslideType, LSKG.MovementType: LSKG.LandslideType,
    }
    for cls in (LSKG.ModelFamily, LSKG.Architecture, LSKG.DataSource, LSKG.LandslideType, LSKG.Task, LSKG.CandidateConcept):
        expected[cls] = SKOS.Concept
    for cls, parent in expected.items():
        assert (cls, RDFS.subClassOf, parent) in tbox, (cls, parent)
    assert len(list(tbox.subjects(RDF.type, OWL.Ontology))) == 1


# --------------------------------------------------------------------------- SKOS hygiene


def test_schemes_are_declared_with_labels_and_top_concepts(concepts: Graph) -> None:
    for scheme in SCHEMES:
        assert (scheme, RDF.type, SKOS.ConceptScheme) in concepts
        assert (scheme, SKOS.prefLabel, None) in concepts and (scheme, SKOS.definition, None) in concepts
        tops = set(concepts.objects(scheme, SKOS.hasTopConcept))
        assert tops == set(concepts.subjects(SKOS.topConceptOf, scheme)), scheme
        for top in tops:
            assert not list(concepts.objects(top, SKOS.broader)), f"top concept {top} has a broader concept"


def test_every_concept_is_in_exactly_one_known_scheme_with_the_right_namespace_and_type(concepts: Graph) -> None:
    for concept in concepts.subjects(RDF.type, SKOS.Concept):
        schemes = set(concepts.objects(concept, SKOS.inScheme))
        assert len(schemes) == 1 and schemes <= SCHEMES.keys(), concept
        namespace, classes = SCHEMES[next(iter(schemes))]
        assert str(concept).startswith(namespace), concept
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", str(concept)[len(namespace):]), f"local name of {concept}"
        assert set(concepts.objects(concept, RDF.type)) & classes, f"{concept} lacks an lskg class of its scheme"


def test_no_orphan_concepts(concepts: Graph) -> None:
    for scheme, members in concepts_by_scheme(concepts).items():
        for concept in members:
            is_top = (concept, SKOS.topConceptOf, scheme) in concepts
            parents = set(concepts.objects(concept, SKOS.broader))
            assert is_top or parents, f"orphan concept {concept}"
            assert parents <= members, f"{concept} has a broader concept outside {scheme}"


def test_exactly_one_english_preflabel_and_a_definition_per_concept(concepts: Graph) -> None:
    for concept in concepts.subjects(RDF.type, SKOS.Concept):
        prefs = list(concepts.objects(concept, SKOS.prefLabel))
        assert len(prefs) == 1 and prefs[0].language == "en", concept
        definitions = list(concepts.objects(concept, SKOS.definition))
        assert len(definitions) == 1 and definitions[0].language == "en" and len(definitions[0]) > 20, concept
        for alt in concepts.objects(concept, SKOS.altLabel):
            assert alt.language == "en", (concept, alt)


def test_definitions_are_not_repeated(concepts: Graph) -> None:
    seen: dict[str, URIRef] = {}
    for concept, definition in concepts.subject_objects(SKOS.definition):
        assert str(definition) not in seen, (concept, seen.get(str(definition)))
        seen[str(definition)] = concept


def match_key(label: str) -> str:
    """A label as a text matcher sees it: accents, case, hyphens, spaces and British spellings ignored."""
    text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode().lower()
    text = text.replace("modelling", "modeling").replace("isation", "ization").replace("normalised", "normalized")
    return re.sub(r"[^a-z0-9+]", "", text)


def test_no_label_is_shared_between_concepts(concepts: Graph) -> None:
    """Labels drive text matching, so a surface form must point at one concept, across all schemes."""
    owner: dict[str, URIRef] = {}
    for concept in concepts.subjects(RDF.type, SKOS.Concept):
        exact = [str(label) for label in labels(concepts, concept)]
        assert len(exact) == len({x.casefold() for x in exact}), f"{concept} repeats a label"
        for label in exact:
            key = match_key(label)
            assert key, (concept, label)
            assert owner.setdefault(key, concept) == concept, f"{label!r} labels both {owner[key]} and {concept}"


def test_labels_avoid_plurals_and_stray_whitespace(concepts: Graph) -> None:
    for concept in concepts.subjects(RDF.type, SKOS.Concept):
        for label in map(str, labels(concepts, concept)):
            assert label == label.strip() and "  " not in label, (concept, label)
            assert not re.search(r"(landslides|networks|models|images|factors|datasets)$", label), (concept, label)


def test_broader_hierarchy_has_no_cycles(concepts: Graph) -> None:
    graph = nx.DiGraph((str(c), str(p)) for c, p in concepts.subject_objects(SKOS.broader))
    assert nx.is_directed_acyclic_graph(graph), nx.find_cycle(graph)


def test_model_families_exist_with_notations(concepts: Graph) -> None:
    assert set(FAMILY_NAMES) == {"CNN", "RNN", "Transformer", "GAN", "AE", "GNN", "DiffusionModel", "ClassicalML"}
    tops = set(concepts.objects(SCHEME.ModelFamily, SKOS.hasTopConcept))
    assert tops == {MODEL[name] for name in FAMILY_NAMES}
    for name in FAMILY_NAMES:
        family = MODEL[name]
        assert (family, RDF.type, LSKG.ModelFamily) in concepts
        assert [str(n) for n in concepts.objects(family, SKOS.notation)] == [name]
    assert set(concepts.subjects(RDF.type, LSKG.ModelFamily)) == tops


def test_every_architecture_reaches_a_family(concepts: Graph) -> None:
    families = {MODEL[name] for name in FAMILY_NAMES}
    graph = nx.DiGraph((c, p) for c, p in concepts.subject_objects(SKOS.broader))
    architectures = set(concepts.subjects(RDF.type, LSKG.Architecture))
    assert len(architectures) >= 90
    for arch in architectures:
        assert arch not in families
        assert nx.descendants(graph, arch) & families, f"{arch} reaches no family"


@pytest.mark.parametrize(("concept", "label"), [
    (MODEL.UNet, "UNet"), (MODEL.UNet, "U-shaped network"), (MODEL.LSTM, "LSTM"), (MODEL.LSTM, "LSTM network"),
    (MODEL.DeepLabV3Plus, "DeepLab v3+"), (MODEL.MLP, "artificial neural network"),
    (LANDSLIDE.EarthquakeInducedLandslide, "co-seismic landslide"),
    (LANDSLIDE.EarthquakeInducedLandslide, "earthquake-triggered landslide"),
    (LANDSLIDE.SlowMovingLandslide, "creeping landslide"), (LANDSLIDE.SlowMovingLandslide, "creep"),
    (DATA.SBASInSAR, "SBAS InSAR"), (DATA.SBASInSAR, "small baseline subset InSAR"),
    (DATA.InSARTimeSeries, "multi-temporal InSAR"), (DATA.InSARTimeSeries, "time-series InSAR"),
    (DATA.Sentinel2, "Sentinel-2"), (TASK.SusceptibilityMapping, "susceptibility zonation"),
    (TASK.DisplacementPrediction, "deformation forecasting"),
    # gold labels of real abstracts that had no concept (train+dev analysis, docs/extraction.md)
    (DATA.StreamPowerIndex, "SPI"), (DATA.DrainageDensity, "river density"), (DATA.FlowAccumulation, "catchment area"),
    (DATA.FrictionAngle, "angle of internal friction"), (DATA.InterferometricCoherence, "interferometric coherence"),
    (DATA.ConditioningFactor, "causal factor"), (DATA.SyntheticData, "numerical simulation"),
    (TASK.RunoutPrediction, "runout distance prediction"), (TASK.SlopeStabilityAnalysis, "slope stability prediction"),
    (TASK.KnowledgeGraphConstruction, "knowledge graph construction"),
    (LANDSLIDE.SubmarineLandslide, "submarine landslide"),
])
def test_key_surface_forms_resolve(concepts: Graph, concept: URIRef, label: str) -> None:
    assert label in {str(x) for x in labels(concepts, concept)}


def test_hierarchy_placements(concepts: Graph) -> None:
    broader = set(concepts.subject_objects(SKOS.broader))
    for pair in [
        (MODEL.ConvLSTM, MODEL.CNN), (MODEL.ConvLSTM, MODEL.LSTM), (MODEL.AELSTM, MODEL.AE), (MODEL.AELSTM, MODEL.LSTM),
        (MODEL.GraphTransformer, MODEL.GNN), (MODEL.GraphTransformer, MODEL.Transformer), (MODEL.MLP, MODEL.ClassicalML),
        (MODEL.BiLSTM, MODEL.LSTM), (DATA.PSInSAR, DATA.InSAR), (DATA.InSARTimeSeries, DATA.InSAR),
        (LANDSLIDE.Rockfall, LANDSLIDE.Fall), (LANDSLIDE.DebrisFlow, LANDSLIDE.Flow),
        (LANDSLIDE.SlowMovingLandslide, LANDSLIDE.SlopeDeformation),
        (LANDSLIDE.MiningInducedLandslide, LANDSLIDE.HumanActivityInducedLandslide),
        (DATA.Cohesion, DATA.GeotechnicalParameter), (DATA.GeotechnicalParameter, DATA.ConditioningFactor),
        (TASK.ReliabilityAnalysis, TASK.SlopeStabilityAnalysis), (TASK.SeismicDisplacementPrediction,
                                                                  TASK.DisplacementPrediction),
    ]:
        assert pair in broader, pair


def test_landslide_facet_collections(concepts: Graph) -> None:
    facets = {COLLECTION.LandslideTrigger: LSKG.TriggerType, COLLECTION.LandslideMovement: LSKG.MovementType}
    for collection, cls in facets.items():
        assert (collection, RDF.type, SKOS.Collection) in concepts
        members = set(concepts.objects(collection, SKOS.member))
        assert members == set(concepts.subjects(RDF.type, cls)), collection
    for collection in concepts.subjects(RDF.type, SKOS.Collection):
        for member in concepts.objects(collection, SKOS.member):
            assert (member, SKOS.inScheme, SCHEME.LandslideType) in concepts, member
    assert LANDSLIDE.RainfallInducedLandslide in set(concepts.objects(COLLECTION.LandslideTrigger, SKOS.member))
    assert LANDSLIDE.RotationalSlide in set(concepts.objects(COLLECTION.LandslideMovement, SKOS.member))


# --------------------------------------------------------------------------- SHACL


def run_shacl(ontology: Graph, shapes: Graph, instance: Path | None) -> tuple[bool, Graph]:
    data = Graph()
    data += ontology
    if instance is not None:
        data.parse(instance, format="turtle")
    conforms, report, _ = validate(data, shacl_graph=shapes, inference="none", advanced=False, allow_warnings=False)
    return conforms, report


def violations(report: Graph) -> set[tuple[URIRef, URIRef | None]]:
    """(focus node, result path) of each top-level result (nested sh:detail results are left out)."""
    results = {r for root in report.subjects(RDF.type, SH.ValidationReport) for r in report.objects(root, SH.result)}
    return {(report.value(r, SH.focusNode), report.value(r, SH.resultPath)) for r in results}


def test_shapes_are_valid_shacl(shapes: Graph) -> None:
    conforms, _, text = validate(Graph(), shacl_graph=shapes, meta_shacl=True)
    assert conforms, text
    assert all(str(s).startswith(BASE + "shape/") for s in shapes.subjects(RDF.type, SH.NodeShape))


def test_curated_ontology_conforms_to_its_shapes(ontology: Graph, shapes: Graph) -> None:
    conforms, report = run_shacl(ontology, shapes, None)
    assert conforms, report.serialize(format="turtle")


def test_valid_instance_data_conforms(ontology: Graph, shapes: Graph) -> None:
    conforms, report = run_shacl(ontology, shapes, FIXTURES / "valid_study.ttl")
    assert conforms, report.serialize(format="turtle")


def test_invalid_instance_data_reports_each_violation(ontology: Graph, shapes: Graph) -> None:
    conforms, report = run_shacl(ontology, shapes, FIXTURES / "invalid_study.ttl")
    assert not conforms
    found = violations(report)
    expected = {
        (STUDY.bad, DCTERMS.title),                      # missing title
        (STUDY.bad, LSKG.usesData),                      # a model concept used as data
        (STUDY.bad, LSKG.studyKind),                     # not an allowed kind
        (FACT.overconfident, LSKG.confidence),           # 1.7 > 1
        (FACT.unsupported, PROV.wasDerivedFrom),         # no evidence
        (EVIDENCE.backwards, LSKG.startChar),            # start after end
        (EVIDENCE.backwards, PROV.wasAttributedTo),      # no extractor
        (CANDIDATE.Orphan, SKOS.broader),                # candidate without a family
        (GAP.thin, LSKG.gapConcept),                     # a single concept
        (GAP.thin, LSKG.observedCount),                  # negative count
    }
    assert expected - found == set()
    # fact:mismatched, a task fact pointing at a data source, is caught from its property's side
    mismatched = [r for r in report.subjects(SH.focusNode, LSKG.addressesTask)]
    assert any(report.value(r, SH.value) == DATA.Sentinel2 for r in mismatched)
    # nothing valid is flagged
    focus_nodes = {f for f, _ in found}
    assert FACT.overconfident in focus_nodes and EVIDENCE.ok not in focus_nodes and not any(
        str(f).startswith((str(MODEL), str(DATA))) for f in focus_nodes)


FABIO = Namespace("http://purl.org/spar/fabio/")
BIBO = Namespace("http://purl.org/ontology/bibo/")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
METRIC = Namespace(BASE + "metric/")


@pytest.mark.parametrize(("focus", "path", "value", "replace"), [
    (FACT.f1, LSKG.role, Literal("invented"), True),
    (FACT.f1, LSKG.factProperty, LSKG.studyArea, True),
    (FACT.f1, LSKG.confidence, Literal("-0.1", datatype=XSD.double), True),
    (FACT.f1, LSKG.confidence, Literal("0.9"), True),
    (FACT.f1, LSKG.factObject, MODEL.GRU, False),
    (STUDY.s1, LSKG.addressesTask, LANDSLIDE.DebrisFlow, False),
    (STUDY.s1, LSKG.targetsLandslideType, TASK.EarlyWarning, False),
    (STUDY.s1, LSKG.usesModel, DATA.Sentinel2, False),
    (STUDY.s1, LSKG.comparesWith, URIRef(BASE + "concept/model/NoSuchModel"), False),
    (STUDY.s1, DCTERMS.title, Literal("A second title"), False),
    (STUDY.s1, FABIO.hasPublicationYear, Literal("2021"), True),
    (STUDY.s1, BIBO.doi, Literal("https://doi.org/10.1/x"), True),
    (STUDY.s1, LSKG.studyKind, Literal("review"), True),
    (METRIC.m1, LSKG.metricValue, Literal("93"), True),
    (EVIDENCE.e1, LSKG.startChar, Literal(-1), True),
    (EVIDENCE.e1, LSKG.endChar, Literal("15"), True),
    (GAP.g1, LSKG.plausibility, Literal("1.5", datatype=XSD.double), True),
])
def test_single_mutations_of_valid_data_are_caught(ontology: Graph, shapes: Graph, tmp_path: Path,
                                                   focus: URIRef, path: URIRef, value, replace: bool) -> None:
    instance = load(FIXTURES / "valid_study.ttl")
    if replace:
        instance.set((focus, path, value))
    else:
        instance.add((focus, path, value))
    mutated = tmp_path / "mutated.ttl"
    instance.serialize(mutated, format="turtle")
    conforms, report = run_shacl(ontology, shapes, mutated)
    assert not conforms
    assert (focus, path) in violations(report)


# --------------------------------------------------------------------------- review synthesis


def test_review_synthesis_has_one_correspondence_per_deep_family(ontology: Graph) -> None:
    correspondences = set(ontology.subjects(RDF.type, LSKG.Correspondence))
    assert len(correspondences) == 7
    families = {ontology.value(c, LSKG.family) for c in correspondences}
    assert families == {MODEL[name] for name in FAMILY_NAMES if name != "ClassicalML"}
    for c in correspondences:
        assert c == SYNTHESIS[str(ontology.value(c, LSKG.family))[len(str(MODEL)):]]
        assert ontology.value(c, LSKG.note).language == "en"
        assert "Table 1" in str(ontology.value(c, DCTERMS.source))
        assert len(list(ontology.objects(c, LSKG.typicalData))) >= 2
        assert len(list(ontology.objects(c, LSKG.typicalTask))) >= 3


def test_review_synthesis_refers_only_to_existing_concepts_of_the_right_scheme(ontology: Graph) -> None:
    synthesis = load(ONTOLOGY / "review-synthesis.ttl")
    expected_scheme = {LSKG.family: SCHEME.ModelFamily, LSKG.typicalData: SCHEME.DataSource,
                       LSKG.typicalLandslideType: SCHEME.LandslideType, LSKG.typicalTask: SCHEME.Task}
    count = 0
    for prop, scheme in expected_scheme.items():
        for _, concept in synthesis.subject_objects(prop):
            assert (concept, SKOS.inScheme, scheme) in ontology, (prop, concept)
            count += 1
    assert count > 50


def test_review_synthesis_matches_table_cells(ontology: Graph) -> None:
    def objects(row: str, prop: URIRef) -> set[URIRef]:
        return set(ontology.objects(SYNTHESIS[row], prop))

    assert {DATA.InSARTimeSeries, DATA.RainfallData, DATA.GroundwaterLevel} <= objects("RNN", LSKG.typicalData)
    assert objects("RNN", LSKG.typicalLandslideType) == {LANDSLIDE.SlowMovingLandslide}
    assert {TASK.DisplacementPrediction, TASK.EarlyWarning} <= objects("RNN", LSKG.typicalTask)
    assert {LANDSLIDE.ShallowLandslide, LANDSLIDE.Rockfall, LANDSLIDE.DebrisFlow} == objects("CNN", LSKG.typicalLandslideType)
    assert {DATA.UAVImagery, DATA.LiDARDerivedDEM, DATA.InSARDeformationMap} <= objects("CNN", LSKG.typicalData)
    assert {TASK.DataAugmentation, TASK.SuperResolution} <= objects("GAN", LSKG.typicalTask)
    assert TASK.AnomalyDetection in objects("AE", LSKG.typicalTask)
    assert TASK.SpatialInteractionModelling in objects("GNN", LSKG.typicalTask)
    assert TASK.ChangeDetection in objects("Transformer", LSKG.typicalTask)
    assert TASK.UncertaintyQuantification in objects("DiffusionModel", LSKG.typicalTask)
