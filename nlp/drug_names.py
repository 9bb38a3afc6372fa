"""Drug names by their stems: the last recogniser, for words that no other layer took.

International nonproprietary names (INN) and US adopted names (USAN) are built from public stems that say the
class: fluconazole (-azole), trimethoprim (-prim), atorvastatin (-statin), lisinopril (-pril), imatinib
(-tinib). A word ending in one of these stems, with at least two letters before it, is a Chemical mention (the
house type of drugs, ``kg.schema.ENTITY_TYPES``) where no other recogniser (the stock model, the graph's names, a
trained layer) proposed anything: "fluconazole" is found in a graph that does not know it. Stems that ordinary
English words also end with are narrowed ("-tide" only as "-glutide", "-enatide", ...; "-vir" after a vowel), and
the few words of two large English word lists that still end alike are stopped (``STOP``;
``benchmarks/drug_names.py --words FILE`` lists a word list's words the rule takes). Its precision and recall on
BC5CDR's chemical mentions are in BENCHMARKS.md.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

from kg.records import Mention
from nlp.gazetteer import overlaps

LABEL = "Chemical"
SCORE = 0.6  # below the stock model's 0.7: a guess from the spelling alone

STEMS = (
    # anti-infectives
    "azole", "prim", "mycin", "micin", "cillin", "cycline", "oxacin", "penem", "bactam", "fungin", "avir", "ovir",
    "uvir", "ivir", "asvir", "previr", "vudine", "oquine", "aquine",
    # heart, vessels, blood
    "statin", "pril", "sartan", "olol", "dipine", "parin", "xaban", "gatran", "fibrate", "thiazide", "semide",
    "zosin", "onidine",
    # metabolism, hormones
    "gliptin", "gliflozin", "glitazone", "formin", "glutide", "enatide", "reotide", "paratide", "pressin", "olone",
    "asone", "isone", "dronate", "prost",
    # gut, allergy, airways
    "tidine", "setron", "atadine", "lukast", "terol", "tropium",
    # nervous system, pain
    "triptan", "profen", "caine", "azepam", "azolam", "barbital", "oxetine", "pramine", "triptyline", "peridol",
    "peridone", "zapine", "tiapine", "azepine", "mazine", "perazine", "thazine", "codone", "morphone", "fentanil",
    "curonium", "zolamide",
    # cancer, immunity
    "mab", "tinib", "rafenib", "ciclib", "parib", "zomib", "lisib", "platin", "rubicin", "taxel", "otecan",
    "mustine", "arabine", "nercept", "bercept", "tacept",
)
# words of English word lists (american-english-insane, british-english-huge) ending in a stem that name no drug
# or chemical: a cheese, Roman offices, a plant, eyelid conditions, an instrument, a fuse, places, a people (only
# words the stems match: a test checks each still does)
STOP = frozenset({
    "provolone", "armavir", "dobrovir", "heliotropium", "iridectropium", "iridentropium", "guadalquivir",
    "zapotecan", "ectropium", "entropium", "violone", "unprim", "seavir", "fusetron",
    # classes, not drugs: "Doxorubicin is an anthracycline used to treat breast cancer" gave the class the fact
    "anthracycline", "benzodiazepine", "carbapenem",
})

# a salt or ester written after the name is part of it ("timolol maleate", "fluocinolone acetonide")
SALTS = ("acetate", "acetonide", "besylate", "bromide", "hydrobromide", "chloride", "hydrochloride", "citrate",
         "dipropionate", "propionate", "fumarate", "maleate", "mesylate", "phosphate", "sodium", "potassium",
         "succinate", "sulfate", "sulphate", "tartrate", "bitartrate", "valerate", "lactate")
_WORD = re.compile(r"(?<![\w-])[A-Za-z][a-z]+(?![\w])")
_SALT = re.compile(r"[ \t]+(?:" + "|".join(SALTS) + r")(?![\w])")


def drug_name_mentions(text: str) -> list[Mention]:
    """Chemical mentions of the words of ``text`` that end in a drug stem (:data:`STEMS`), in order."""
    out = []
    for m in _WORD.finditer(text):  # every word, then a suffix test: twice as fast as one regex of the stems
        if is_drug_name(m.group()):
            salt = _SALT.match(text, m.end())
            end = salt.end() if salt else m.end()
            out.append(Mention(m.start(), end, text[m.start():end], LABEL, None, SCORE))
    return out


def is_drug_name(word: str) -> bool:
    """Whether ``word`` ends in a drug stem with at least two letters before it, and is not on the stop list."""
    return (word.endswith(STEMS) and any(len(word) - len(stem) >= 2 for stem in STEMS if word.endswith(stem))
            and word.lower() not in STOP)


def add_drug_names(text: str, mentions: Sequence[Mention], proposed: Iterable[Mention] | None = None) -> list[Mention]:
    """``mentions`` (what the layers' merge or vote kept) with the drug names of ``text`` where no layer proposed
    anything (``proposed``: every layer's mentions, kept or not; default ``mentions``), in order of start: the other
    recognisers decide first, and a span they voted down is not brought back."""
    spans = _covered(mentions if proposed is None else proposed)
    found = [d for d in drug_name_mentions(text) if not overlaps(spans, d.start, d.end)]
    return sorted([*mentions, *found], key=lambda m: m.start) if found else list(mentions)


def _covered(mentions: Iterable[Mention]) -> list[tuple[int, int]]:
    """The stretches of text that ``mentions`` cover, sorted and disjoint (overlapping spans joined)."""
    spans: list[tuple[int, int]] = []
    for start, end in sorted((m.start, m.end) for m in mentions):
        if spans and start < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans
