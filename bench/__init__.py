"""Benchmarks of activespec: throughput, memory and active-learning efficiency.

Run them with ``python -m bench [names...] [--quick]`` (``make bench`` runs them all);
see BENCHMARKS.md for the figures, the machine and what each baseline is. Every
benchmark measures its subject and its baseline side by side in one run, prints the
ratio and appends a JSON record to ``bench/results/<name>.jsonl``. Speed and memory are
never asserted in tests.
"""

#: The suite in running order: projection reads the ingestion and scoring records.
BENCHMARKS = ("ingestion", "scoring", "memory", "active_learning", "projection")
#: Written separately, or needing more than Python (flink: Java and Beam's Flink
#: job-server jar); included in the suite when its module is present.
OPTIONAL_BENCHMARKS = (
    "tuner_vs_default",
    "campaign",
    "flink",
    "label_spreading",
    "scale",
    "novelty",
    "demo_steps",
)
