"""Extraction throughput on a synthetic corpus, against spaCy's bare tokenizer on the same texts (the floor).

    python benchmarks/bench_extract.py            # 10,000 studies
    python benchmarks/bench_extract.py --n 2000 --workers 2 --json
    python benchmarks/bench_extract.py --real --n 2000 --scaling 2   # real-length abstracts, 1 vs 2 workers

``--real`` reads the embedded corpus (``lskg/data/corpus/*.jsonl``: published abstracts and review summaries,
about 140 words a study) through lskg's own readers and repeats it to ``--n`` studies. ``--scaling N`` runs the
same documents with 1 and with N worker processes in the same run and prints the ratio, with the CPU seconds of
every process: on a machine shared with other work the wall-clock ratio understates the scaling, the CPU
accounting does not (``cpu_bound_speedup``: one process's CPU time over the busiest process's in the N-worker run).
``cores_used`` is the CPU seconds of all the run's processes over its wall seconds: where the kernel shares the CPU
per session (``/proc/sys/kernel/sched_autogroup_enabled`` = 1) and other sessions keep the cores busy, it stays the
same with 1 or N workers, and so does the wall time.

Both modes time spaCy on the same texts in the same run, one process: the pipeline's own tokenizer (a blank
English tokenizer, the floor), ``spacy.blank("en")`` through ``nlp.pipe``, and spaCy's small English pipeline
``en_core_web_sm`` when it is installed (the speed the performance goal names; reported as not installed
otherwise). ``*_vs_*`` figures are lskg's words per second over the baseline's.

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


def corpus_texts(path: str, n: int) -> list[str]:
    """Title and abstract of the first ``n`` records of a JSONL corpus (real-length abstracts), cycled to ``n``."""
    with open(path, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    texts = [f"{r.get('title', '')}. {r.get('abstract') or r.get('text') or ''}".strip(". ") for r in records]
    return [texts[i % len(texts)] for i in range(n)] if texts else []


def embedded_documents(n: int) -> list:
    """The embedded corpus's Documents (real passages, as ``lskg build`` reads them), repeated to ``n``."""
    from dataclasses import replace

    from lskg.data import CORPUS
    from lskg.extract.readers import read_documents

    base = list(read_documents([CORPUS], "auto", []))
    return [d if i < len(base) else replace(d, study=replace(d.study, id=f"{d.study.id}-r{i // len(base)}"))
            for i, d in ((i, base[i % len(base)]) for i in range(n))]


def _cpu_seconds() -> tuple[float, float]:
    """(this process, its finished children) user+system CPU seconds."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def spacy_baselines(texts: list[str], batch_size: int) -> dict:
    """Words per second of spaCy's tokenizer, ``spacy.blank("en")`` and ``en_core_web_sm`` (if installed) on
    ``texts``, one process."""
    import spacy

    words = sum(len(t.split()) for t in texts)
    blank = spacy.blank("en")
    runs = {"tokenizer": blank.tokenizer.pipe, "blank_en": blank.pipe}
    if spacy.util.is_package("en_core_web_sm"):
        runs["en_core_web_sm"] = spacy.load("en_core_web_sm").pipe
    result: dict = {"en_core_web_sm": "not installed"} if "en_core_web_sm" not in runs else {}
    for _doc in blank.tokenizer.pipe(texts, batch_size=batch_size):
        pass  # warm-up: every word of the texts in the shared vocabulary, as for a second pass
    for name, pipe in runs.items():
        started = time.process_time()
        for _doc in pipe(texts, batch_size=batch_size):
            pass
        result[name] = round(words / (time.process_time() - started))
    return result


def compare(words_per_s: float, baselines: dict) -> dict:
    """lskg's words/s over each baseline's (above 1: lskg is faster)."""
    return {f"vs_{name}": round(words_per_s / value, 3) for name, value in baselines.items()
            if isinstance(value, int)}


def timed_run(documents: list, workers: int, batch_size: int, decide: bool = False) -> dict:
    """Extract ``documents`` with a fresh Extractor of ``workers`` processes: wall and CPU seconds (start-up, the
    pipeline's construction and warm-up, apart)."""
    from lskg.extract.pipeline import Extractor

    started = time.perf_counter()
    extractor = Extractor(n_process=workers, batch_size=batch_size, decide=decide)
    extractor.read("Warm-up: a U-Net maps landslides.")
    startup = time.perf_counter() - started
    cpu0, children0 = _cpu_seconds()
    started = time.perf_counter()
    facts = sum(len(item.facts) for item in extractor.run(documents))
    wall = time.perf_counter() - started
    cpu1, children1 = _cpu_seconds()
    cpu = cpu1 - cpu0 + children1 - children0
    return {"workers": workers, "startup_s": round(startup, 2), "wall_s": round(wall, 2),
            "parent_cpu_s": round(cpu1 - cpu0, 2), "workers_cpu_s": round(children1 - children0, 2),
            "cores_used": round(cpu / wall, 2), "facts": facts}


def scaling(args: argparse.Namespace) -> dict:
    documents = embedded_documents(args.n) if args.real else None
    if documents is None:
        from lskg.extract.document import Document
        from lskg.records import Study

        documents = [Document.of_record(Study(id=str(i), title="", abstract=t))
                     for i, t in enumerate(synthetic_corpus(args.n))]
    texts = [p.text for d in documents for p in d.passages]
    words = sum(len(t.split()) for t in texts)
    baselines = spacy_baselines(texts, args.batch_size)
    one = timed_run(documents, 1, args.batch_size, args.decide)
    many = timed_run(documents, args.scaling, args.batch_size, args.decide)
    assert one["facts"] == many["facts"], "workers must not change the output"
    busiest = max(many["parent_cpu_s"], many["workers_cpu_s"] / args.scaling)
    result = {"studies": len(documents), "words": words, "one": one, "many": many,
              "words_per_s_one": round(words / one["wall_s"]), "words_per_cpu_s_one": round(words / one["parent_cpu_s"]),
              "words_per_s_many": round(words / many["wall_s"]), "spacy_words_per_cpu_s": baselines,
              "one_per_cpu_s": compare(words / one["parent_cpu_s"], baselines),
              "wall_speedup": round(one["wall_s"] / many["wall_s"], 2),
              "cpu_bound_speedup": round(one["parent_cpu_s"] / busiest, 2),
              "cpu_overhead": round((many["parent_cpu_s"] + many["workers_cpu_s"]) / one["parent_cpu_s"], 2),
              "load_average": round(__import__("os").getloadavg()[0], 1), "decide": args.decide}
    print(json.dumps(result, indent=2))
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="studies to generate (default 10,000)")
    parser.add_argument("--workers", type=int, default=1, help="spaCy worker processes (n_process)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--decide", action="store_true",
                        help="run the learned decision stage (lskg.decision.v1) after the rule components")
    parser.add_argument("--corpus", help="a JSONL corpus (title, abstract) instead of synthetic texts, cycled to --n")
    parser.add_argument("--real", action="store_true",
                        help="the embedded corpus (real-length abstracts and review summaries), repeated to --n")
    parser.add_argument("--scaling", type=int, metavar="N",
                        help="compare 1 and N worker processes on the same documents (wall and CPU seconds)")
    args = parser.parse_args(argv)
    if args.scaling:
        return scaling(args)

    from lskg.extract.document import Document
    from lskg.extract.pipeline import Extractor
    from lskg.records import Study

    texts = synthetic_corpus(args.n) if not args.real else []
    if args.corpus:
        texts = corpus_texts(args.corpus, args.n)
    real = embedded_documents(args.n) if args.real else None
    if real is not None:
        texts = [p.text for d in real for p in d.passages]
    words = sum(len(t.split()) for t in texts)
    extractor = Extractor(n_process=args.workers, batch_size=args.batch_size)
    if args.decide:
        from lskg.extract.decision import DecisionStage

        extractor.decision = DecisionStage(extractor.index)
    extractor.read("Warm-up: a U-Net maps landslides.")

    started = time.perf_counter()
    for _doc in extractor.nlp.tokenizer.pipe(texts, batch_size=args.batch_size):
        pass
    tokenizer_s = time.perf_counter() - started
    baselines = spacy_baselines(texts, args.batch_size)

    documents = real if real is not None else (
        Document.of_record(Study(id=str(i), title="", abstract=t)) for i, t in enumerate(texts))
    started = time.perf_counter()
    cpu_started = time.process_time()
    facts = metrics = 0
    for item in extractor.run(documents):
        facts += len(item.facts)
        metrics += len(item.metrics)
    extract_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "studies": args.n, "words": words, "workers": args.workers,
        "extract_seconds": round(extract_s, 2), "tokenizer_seconds": round(tokenizer_s, 2),
        "studies_per_s": round(args.n / extract_s, 1), "words_per_s": round(words / extract_s),
        "words_per_cpu_s": round(words / cpu_s) if args.workers == 1 else None,
        "tokenizer_words_per_s": round(words / tokenizer_s), "slowdown_vs_tokenizer": round(extract_s / tokenizer_s, 1),
        "facts": facts, "metrics": metrics, "peak_rss_mib": round(peak_mib, 1),
        "spacy_words_per_cpu_s": baselines,
    }
    if args.workers == 1:
        result["words_per_cpu_s_vs"] = compare(words / cpu_s, baselines)
    result["decide"] = args.decide
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>24}: {value}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
