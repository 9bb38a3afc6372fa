"""Where the benchmarks read the public datasets: ``../shared/datasets/`` next to the repo, in place.

The house rule is that no dataset is copied into the repo (some are non-commercial), not even into an ignored
folder: scripts name the files they need by the short names below and read them from there.
"""
from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets"
if not DATA.is_dir():  # a worktree or clone elsewhere on this machine
    DATA = Path("/work/shared/datasets")

FILES = {
    "CDR_TrainingSet.PubTator.txt": "bc5cdr/CDR_TrainingSet.PubTator.txt",
    "CDR_DevelopmentSet.PubTator.txt": "bc5cdr/CDR_DevelopmentSet.PubTator.txt",
    "CDR_TestSet.PubTator.txt": "bc5cdr/CDR_TestSet.PubTator.txt",
    "ori_pqal.json": "pubmedqa/ori_pqal.json",
    "test_ground_truth.json": "pubmedqa/test_ground_truth.json",
    "fpb.txt": "financial-phrasebank/FinancialPhraseBank-v1.0/Sentences_50Agree.txt",
    "hetionet-v1.0-nodes.tsv": "hetionet/hetionet-v1.0-nodes.tsv",
}


def dataset(name: str) -> Path:
    """The shared dataset file a benchmark knows as ``name`` (a key of ``FILES``)."""
    return DATA / FILES[name]
