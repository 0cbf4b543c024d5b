"""Extraction throughput on a synthetic corpus, against spaCy's bare tokenizer on the same texts (the floor).

    python benchmarks/bench_extract.py            # 10,000 studies
    python benchmarks/bench_extract.py --n 2000 --workers 2 --json

Abstracts are generated here (nothing committed) by recombining the ontology's labels in varied sentence
templates, so every component has work to do: labels of all four facets, acronyms defined in the text,
candidate architecture names, comparisons (roles), metrics and places. Peak memory is the process's maximum
resident set size (``resource.getrusage``).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time

TEMPLATES = [
    "We propose {cand}, a {model}-based network for {task} of {lt}s from {data}.",
    "A {model} ({acr}) was trained on {data} and {data2}; the {acr} outperformed {base} and {base2}.",
    "The study area is located in the {place} region, {country}, where {lt}s are frequent.",
    "{cand} achieved an F1-score of 0.{d2} and an accuracy of {d2}.{d1}%, higher than the {base} model.",
    "Compared with {base}, the {model} improved {task} with an RMSE of {d1}.{d1} mm and R2 of 0.{d2}.",
    "Results show that {data} combined with {data2} supports {task} and {task2}.",
    "Unlike {data2}-based methods, our approach could be extended to {model2} in future work.",
    "Landslides were detected in {data} images and mapped for inventory compilation after the {place} earthquake.",
]
PLACES = ["Wenchuan", "Hokkaido Iburi", "Three Gorges Reservoir", "Gorkha", "Jiuzhaigou", "Kaikoura", "Sichuan"]
COUNTRIES = ["China", "Japan", "Nepal", "Italy", "New Zealand", "India"]
CAND_PARTS = (["Lite", "Geo", "Slope", "Multi", "Deep", "Fast", "Res", "Att"],
              ["Trans", "GNN", "UNet", "GRU", "LSTM", "Former", "GAN", "YOLO"], ["Net", "-CF", "-X", "Plus", ""])


def synthetic_corpus(n: int, seed: int = 0) -> list[str]:
    from lskg.ontology import concept_index

    rng = random.Random(seed)
    index = concept_index()
    labels = {f: [lab for c in index.facet(f) for lab in c.labels] for f in ("model", "data", "landslide_type", "task")}
    acronyms = [(c.pref_label, c.notation) for c in index.facet("model") if c.notation and " " in c.pref_label]
    texts = []
    for _ in range(n):
        sentences = []
        for template in rng.sample(TEMPLATES, k=rng.randint(4, 7)):
            long_form, acr = rng.choice(acronyms) if acronyms else ("long short-term memory", "LSTM")
            sentences.append(template.format(
                cand="".join(rng.choice(p) for p in CAND_PARTS), model=rng.choice(labels["model"]),
                model2=rng.choice(labels["model"]), acr=acr, base=rng.choice(labels["model"]),
                base2=rng.choice(labels["model"]), data=rng.choice(labels["data"]), data2=rng.choice(labels["data"]),
                task=rng.choice(labels["task"]), task2=rng.choice(labels["task"]), lt=rng.choice(labels["landslide_type"]),
                place=rng.choice(PLACES), country=rng.choice(COUNTRIES), d1=rng.randint(1, 9), d2=rng.randint(10, 99),
            ).replace(f"A {long_form} ({acr})", f"A {long_form} ({acr})"))
        texts.append(" ".join(sentences))
    return texts


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="studies to generate (default 10,000)")
    parser.add_argument("--workers", type=int, default=1, help="spaCy worker processes (n_process)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    from lskg.extract.document import Document
    from lskg.extract.pipeline import Extractor
    from lskg.records import Study

    texts = synthetic_corpus(args.n)
    words = sum(len(t.split()) for t in texts)
    extractor = Extractor(n_process=args.workers, batch_size=args.batch_size)
    extractor.read("Warm-up: a U-Net maps landslides.")

    started = time.perf_counter()
    for _doc in extractor.nlp.tokenizer.pipe(texts, batch_size=args.batch_size):
        pass
    tokenizer_s = time.perf_counter() - started

    documents = (Document.of_record(Study(id=str(i), title="", abstract=t)) for i, t in enumerate(texts))
    started = time.perf_counter()
    facts = metrics = 0
    for item in extractor.run(documents):
        facts += len(item.facts)
        metrics += len(item.metrics)
    extract_s = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "studies": args.n, "words": words, "workers": args.workers,
        "extract_seconds": round(extract_s, 2), "tokenizer_seconds": round(tokenizer_s, 2),
        "studies_per_s": round(args.n / extract_s, 1), "words_per_s": round(words / extract_s),
        "tokenizer_words_per_s": round(words / tokenizer_s), "slowdown_vs_tokenizer": round(extract_s / tokenizer_s, 1),
        "facts": facts, "metrics": metrics, "peak_rss_mib": round(peak_mib, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
