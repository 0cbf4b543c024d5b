"""A synthetic literature for benchmarks and evaluation tests: studies 2015-2025 whose facts are correlated the way
the field's are (the review's Table 1), with drift.

Each study draws a research *archetype* (CNN mapping on optical imagery, RNN displacement forecasting on InSAR
time series, Transformer fusion, GAN augmentation...) with a popularity that changes by year (Transformers rise
after 2020, diffusion models after 2022, classical ML fades), then 1-3 models, 1-2 data sources, a landslide type
and 1-2 tasks from the archetype's distributions, plus noise (facts borrowed from another archetype). Archetypes
share data sources and landslide types but differ in their combination (InSAR *deformation maps* for detection go
with CNNs, InSAR *time series* for displacement prediction with RNNs), so single-concept counts are not the whole
story. Labels are resolved against the ontology; a label the ontology lacks is skipped.

    studies = synthetic_corpus(10_000, seed=0)    # list[StudyFacts], ready for lskg.kg.mapping.study_quads
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from lskg.errors import UnknownConceptError
from lskg.ontology import ConceptIndex, concept_index
from lskg.records import Evidence, Facet, Fact, Study, StudyFacts

log = logging.getLogger(__name__)

EXTRACTOR = "synthetic-v1"


@dataclass(frozen=True)
class Archetype:
    name: str
    start: int
    """Year the line of work appears."""
    growth: float
    """Yearly log-growth of its share (negative: fading)."""
    weight: float
    model: dict[str, float]
    data: dict[str, float]
    landslide_type: dict[str, float]
    task: dict[str, float]


ARCHETYPES = (
    Archetype("cnn-optical-mapping", 2015, 0.05, 3.0,
              {"U-Net": 3, "ResNet": 2, "DeepLabv3+": 1.5, "fully convolutional network": 1, "Mask R-CNN": 1,
               "YOLO": 1, "convolutional neural network": 2, "HRNet": 0.5, "VGG": 0.5, "Attention U-Net": 0.7},
              {"optical remote sensing imagery": 4, "UAV imagery": 2, "DEM": 1.5, "LiDAR": 1, "Sentinel-2": 1.5},
              {"shallow landslide": 2, "rockfall": 1, "debris flow": 1, "earthquake-induced landslide": 1.5,
               "rainfall-induced landslide": 1.5},
              {"landslide detection": 3, "semantic segmentation": 2, "boundary delineation": 1,
               "landslide inventory mapping": 1.5}),
    Archetype("cnn-insar-identification", 2017, 0.10, 1.2,
              {"convolutional neural network": 2, "YOLO": 1.5, "U-Net": 1, "Faster R-CNN": 1, "ResNet": 1},
              {"InSAR deformation map": 3, "InSAR": 2, "optical remote sensing imagery": 1, "DEM": 1},
              {"slow-moving landslide": 3, "creeping landslide": 1},
              {"potential landslide identification": 3, "landslide detection": 2}),
    Archetype("susceptibility", 2015, 0.0, 2.0,
              {"convolutional neural network": 2, "1D CNN": 1, "random forest": 2, "support vector machine": 1,
               "XGBoost": 1, "logistic regression": 1, "multilayer perceptron": 1},
              {"DEM": 3, "landslide conditioning factors": 3, "landslide inventory": 2, "rainfall": 1,
               "geological map": 1},
              {"shallow landslide": 1, "rainfall-induced landslide": 2},
              {"susceptibility mapping": 5}),
    Archetype("rnn-displacement", 2016, 0.08, 2.0,
              {"long short-term memory": 4, "gated recurrent unit": 2, "bidirectional LSTM": 1, "CNN-LSTM": 1,
               "temporal convolutional network": 0.5, "ConvLSTM": 0.5, "sequence-to-sequence model": 0.5,
               "support vector regression": 0.7, "recurrent neural network": 1},
              {"InSAR time series": 4, "GNSS": 3, "rainfall": 2, "groundwater level": 1.5,
               "reservoir water level": 1.5},
              {"creeping landslide": 3, "slow-moving landslide": 3, "reservoir landslide": 1.5},
              {"displacement prediction": 6, "early warning": 1.5, "deformation analysis": 1.5}),
    Archetype("transformer-fusion", 2020, 0.35, 1.0,
              {"Transformer": 2, "Vision Transformer": 2, "Swin Transformer": 2, "SegFormer": 1, "TransUNet": 1},
              {"multi-temporal optical imagery": 3, "multi-source data": 3, "SAR imagery": 1.5, "InSAR": 1,
               "optical remote sensing imagery": 1},
              {"complex landslide": 2, "earthquake-induced landslide": 1},
              {"change detection": 3, "multimodal landslide detection": 2, "cross-domain prediction": 1,
               "landslide detection": 1}),
    Archetype("transformer-forecasting", 2021, 0.35, 0.6,
              {"Informer": 2, "temporal fusion Transformer": 1.5, "Transformer": 2, "long short-term memory": 1},
              {"InSAR time series": 3, "GNSS": 2, "rainfall": 1},
              {"slow-moving landslide": 2, "reservoir landslide": 1},
              {"displacement prediction": 4, "early warning": 1}),
    Archetype("gan-augmentation", 2018, 0.10, 0.8,
              {"generative adversarial network": 2, "deep convolutional GAN": 1, "CycleGAN": 1,
               "conditional GAN": 1, "super-resolution GAN": 1, "U-Net": 1},
              {"optical remote sensing imagery": 2, "UAV imagery": 2, "DEM": 1, "synthetic data": 2},
              {"shallow landslide": 1, "earthquake-induced landslide": 1, "rainfall-induced landslide": 1},
              {"data augmentation": 3, "sample generation": 2, "super-resolution": 1, "landslide detection": 1}),
    Archetype("ae-features", 2017, 0.05, 0.7,
              {"autoencoder": 2, "stacked autoencoder": 1.5, "convolutional autoencoder": 1,
               "variational autoencoder": 1, "LSTM autoencoder": 1},
              {"InSAR time series": 2, "multi-source data": 2, "landslide conditioning factors": 1},
              {"slow-moving landslide": 1, "shallow landslide": 1},
              {"feature extraction": 2, "anomaly detection": 2, "dimensionality reduction": 1, "denoising": 1}),
    Archetype("gnn-regional", 2019, 0.30, 0.5,
              {"graph convolutional network": 2, "graph attention network": 1.5, "GraphSAGE": 1,
               "spatio-temporal graph neural network": 1, "graph neural network": 1},
              {"slope units": 2, "sensor network": 1.5, "landslide inventory": 1.5, "GNSS": 1},
              {"regional landslides": 2, "clustered landslides": 1},
              {"susceptibility mapping": 2, "spatial interaction modelling": 2, "displacement prediction": 1}),
    Archetype("diffusion", 2022, 0.45, 0.25,
              {"denoising diffusion probabilistic model": 2, "latent diffusion model": 1,
               "conditional diffusion model": 1, "diffusion model": 1},
              {"multi-source data": 2, "synthetic data": 2, "optical remote sensing imagery": 1},
              {"rainfall-induced landslide": 1, "earthquake-induced landslide": 1},
              {"denoising": 2, "data augmentation": 1, "image reconstruction": 1, "uncertainty quantification": 1}),
    Archetype("classical-ml", 2015, -0.15, 2.0,
              {"random forest": 3, "support vector machine": 2, "logistic regression": 1, "gradient boosting": 1,
               "BP neural network": 1, "extreme learning machine": 0.5},
              {"DEM": 2, "landslide conditioning factors": 2, "optical remote sensing imagery": 1, "GNSS": 1},
              {"shallow landslide": 1, "rainfall-induced landslide": 1},
              {"susceptibility mapping": 3, "landslide detection": 1, "displacement prediction": 1}),
)

SIZES: dict[Facet, tuple[int, ...]] = {"model": (1, 2, 3), "data": (1, 2), "landslide_type": (0, 1, 1, 1),
                                       "task": (1, 1, 2)}


def _resolve(index: ConceptIndex, facet: Facet, dist: dict[str, float]) -> tuple[list[str], np.ndarray]:
    iris, weights = [], []
    for label, w in dist.items():
        try:
            iri = index.resolve(label, facet).iri
        except UnknownConceptError:
            continue
        if iri not in iris:
            iris.append(iri)
            weights.append(w)
    return iris, np.asarray(weights, dtype=float) / max(sum(weights), 1e-9)


def synthetic_corpus(n: int, *, seed: int = 0, first_year: int = 2015, last_year: int = 2025,
                     noise: float = 0.12, index: ConceptIndex | None = None) -> list[StudyFacts]:
    """``n`` synthetic studies (deterministic for a seed), volume growing ~25 % a year."""
    index = index or concept_index()
    rng = np.random.default_rng(seed)
    resolved = []
    for arch in ARCHETYPES:
        facets = {f: _resolve(index, f, getattr(arch, f)) for f in SIZES}
        if facets["model"][0] and facets["data"][0] and facets["task"][0]:
            resolved.append((arch, facets))
        else:
            log.info("synthetic archetype %s skipped: the ontology lacks its labels", arch.name)
    if not resolved:
        raise ValueError("no synthetic archetype resolves against this ontology")
    years = np.arange(first_year, last_year + 1)
    volume = np.exp(0.22 * (years - first_year))
    year_of = rng.choice(years, size=n, p=volume / volume.sum())
    labels = {c.iri: c.pref_label for c in index.concepts.values()}
    out = []
    for k, year in enumerate(sorted(year_of.tolist())):
        share = np.array([a.weight * math.exp(a.growth * (year - a.start)) if year >= a.start else 0.0
                          for a, _ in resolved])
        arch, facets = resolved[rng.choice(len(resolved), p=share / share.sum())]
        study = Study(id=f"syn{k:05d}", title=f"Synthetic study {k} ({arch.name}, {year})", year=int(year),
                      authors=(f"Author{k % 997}, A.",), source=f"synthetic#{k}")
        facts = []
        for facet, sizes in SIZES.items():
            iris, p = facets[facet]
            if not iris:
                continue
            size = min(int(rng.choice(sizes)), len(iris))
            chosen = list(rng.choice(len(iris), size=size, replace=False, p=p))
            picked = [iris[i] for i in chosen]
            if picked and rng.random() < noise:
                other = resolved[rng.integers(len(resolved))][1][facet][0]
                if other:
                    picked[-1] = other[rng.integers(len(other))]
            for iri in dict.fromkeys(picked):
                ev = Evidence(study.source, study.title, 0, 0, "", EXTRACTOR, 1.0)
                facts.append(Fact(facet, iri, labels.get(iri, iri), ev))
        out.append(StudyFacts(study, facts))
    return out
