"""Render benchmarks/.models/extraction.json (written by extraction.py as it goes) as Markdown tables.

    python benchmarks/extraction_report.py > /tmp/tables.md
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pct(x) -> str:
    return f"{100 * x:.1f}" if isinstance(x, (int, float)) else "–"


def main(path: Path) -> None:
    r = json.loads(path.read_text())
    print(f"Run: {r.get('date')} · {r.get('machine')} · torch threads {r.get('threads')} · "
          f"quick={r.get('quick')} · total {r.get('seconds', '(incomplete)')} s\n")
    if "models" in r:
        print("| model | kind | trained on (docs) | epochs | max_length | train time (s) |\n|---|---|---:|---:|---:|---:|")
        for k, m in r["models"].items():
            print(f"| {m.get('dir')} | {m.get('kind')} | {m.get('train_docs')} | {m.get('epochs')} | "
                  f"{m.get('max_length')} | {m.get('train_seconds')} |")
        print()
    if "bc5cdr_ner" in r:
        print("**BC5CDR test, entity-level micro P/R/F1 (exact span + type)**\n")
        print("| profile | Chemical P/R/F1 | Disease P/R/F1 | both P/R/F1 | NER docs/s |\n|---|---|---|---|---:|")
        for prof, s in r["bc5cdr_ner"].items():
            cells = []
            for key in ("Chemical", "Disease", "micro"):
                v = s.get(key, {})
                cells.append(f"{pct(v.get('precision'))} / {pct(v.get('recall'))} / **{pct(v.get('f1'))}**")
            print(f"| {prof} | {' | '.join(cells)} | {s.get('docs_per_s_ner_only')} |")
        print()
    for key, title in (("ncbi_disease_ner", "NCBI-disease test"), ("finer_ord_ner", "FiNER-ORD test")):
        if key in r:
            print(f"**{title}** (micro P/R/F1)\n\n| model | P | R | F1 |\n|---|---:|---:|---:|")
            for kind, s in r[key].items():
                if isinstance(s, str):
                    print(f"| {kind} | {s} | | |")
                else:
                    m = s["micro"]
                    print(f"| {kind} | {pct(m['precision'])} | {pct(m['recall'])} | **{pct(m['f1'])}** |")
            print()
    if "bc5cdr_linking" in r:
        lk = r["bc5cdr_linking"]
        g = lk["gold_spans"]
        print("**BC5CDR MeSH linking (test)**\n")
        print(f"- gold spans: accuracy **{pct(g['accuracy'])}** over {g['mentions']} mentions "
              f"(ceiling: {pct(g['ceiling_id_seen_in_train_dev'])} have an id seen in train+dev); "
              f"by rule: {g['by_method']}; threshold {g['threshold']}")
        if "end_to_end" in lk:
            e = lk["end_to_end"]
            print(f"- end to end ({lk.get('end_to_end_profile')} profile spans): P {pct(e['precision'])} / "
                  f"R {pct(e['recall'])} / F1 **{pct(e['f1'])}** on (span, MeSH id)")
        print()
    if "bc5cdr_cid" in r:
        c = r["bc5cdr_cid"]
        print("**BC5CDR CID relations, document level (test)**\n\n| entities | P | R | F1 | predicted | gold |\n"
              "|---|---:|---:|---:|---:|---:|")
        for key in ("gold_entities", "end_to_end"):
            if key in c:
                v = c[key]
                print(f"| {key.replace('_', ' ')} | {pct(v['precision'])} | {pct(v['recall'])} | **{pct(v['f1'])}** | "
                      f"{v['predicted']} | {v['gold']} |")
        print(f"\nthreshold {c.get('threshold')} (tuned on dev), candidate-pair recall with gold entities "
              f"{pct(c.get('candidate_recall_gold_entities'))}, end-to-end spans from the "
              f"{c.get('end_to_end_profile')} profile.\n")
    if "throughput" in r:
        print("**Throughput, 500 BC5CDR test abstracts (NER + linking + CID classifier), one process per profile**\n")
        print("| profile | docs/s | seconds | peak RSS (MB) |\n|---|---:|---:|---:|")
        for prof, t in r["throughput"].items():
            print(f"| {prof} | {t.get('docs_per_s', t.get('error'))} | {t.get('seconds')} | {t.get('peak_rss_mb')} |")
        print()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "benchmarks" / ".models" / "extraction.json")
