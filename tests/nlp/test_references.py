"""A paper's trailing reference list is left out of an HTML page's or a PDF's text, conservatively."""
from __future__ import annotations

from nlp.loaders import load_documents
from nlp.references import without_references
from tests.nlp.test_doc_formats import make_pdf

BODY = "Metformin treats type 2 diabetes.\n\nIn our cohort it was well tolerated."
CITED = ("1. Smith J, Lee K, et al. Metformin causes lactic acidosis in renal failure. N Engl J Med. 1998;338(4):1-9.\n"
         "2. Doe A. Warfarin causes bleeding. Lancet 2001;12:33.")


def test_a_trailing_reference_list_is_left_out():
    for heading in ("References", "REFERENCES", "7. References", "Bibliography", "Literature cited:"):
        assert without_references(f"{BODY}\n\n{heading}\n\n{CITED}") == BODY, heading
    assert without_references(f"{BODY}\n\nReferences") == BODY  # a heading left alone (its list was markup chrome)


def test_a_references_heading_not_followed_by_citations_keeps_the_text():
    # conservative: a section called References that reads as prose, an appendix after the list, a word in a line
    prose = f"{BODY}\n\nReferences\n\nOur references were checked by two reviewers.\n\nAspirin treats pain."
    appendix = (f"{BODY}\n\nReferences\n\n{CITED}\n\nAppendix A\n\nAspirin treats pain in adults.\n\n"
                "Ibuprofen treats fever.\n\nNaproxen treats pain.")
    inline = f"{BODY} References are listed below.\n\n{CITED}"
    only = f"References\n\n{CITED}"
    for text in (prose, appendix, inline, only):
        assert without_references(text) == text


def test_html_and_pdf_papers_are_read_without_their_references(tmp_path):
    # the cited titles gave facts the paper never states (metformin CAUSES lactic acidosis)
    (tmp_path / "heading.html").write_text(
        "<h1>Metformin in practice</h1><p>Metformin treats type 2 diabetes.</p><h2>References</h2><ol><li>Smith J, et "
        "al. Metformin causes lactic acidosis. N Engl J Med. 1998;338:1-9.</li><li>Doe A. Warfarin causes bleeding. "
        "Lancet 2001.</li></ol>", encoding="utf-8")
    (tmp_path / "marked.html").write_text(
        "<h1>Metformin in practice</h1><p>Metformin treats type 2 diabetes.</p><section id='references'><h2>Sources"
        "</h2><p>Metformin causes lactic acidosis.</p></section><ol class='references'><li>Warfarin causes bleeding."
        "</li></ol><p>Aspirin treats pain.</p>", encoding="utf-8")
    make_pdf(tmp_path / "paper.pdf", [["Metformin in practice", "Metformin treats type 2 diabetes."],
                                      ["References", "1. Smith J, et al. Metformin causes lactic acidosis.",
                                       "N Engl J Med. 1998;338(4):1-9.", "2. Doe A. Warfarin causes bleeding.",
                                       "Lancet. 2001;12:33."]])
    texts = {d.document.id: d.document.text for d in load_documents([tmp_path])}
    assert texts == {"heading": "Metformin in practice\n\nMetformin treats type 2 diabetes.",
                     "marked": "Metformin in practice\n\nMetformin treats type 2 diabetes.\n\nAspirin treats pain.",
                     "paper": "Metformin in practice\nMetformin treats type 2 diabetes."}


def test_a_plain_text_paper_is_read_without_its_references(tmp_path):
    # only HTML and PDF papers were read without them: a .txt or .md paper's cited titles gave facts
    for name in ("paper.txt", "essay.md"):
        (tmp_path / name).write_text(f"{BODY}\n\nReferences\n\n{CITED}\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text(f"{BODY}\n\nReferences\n\nOur references were checked.\n", encoding="utf-8")
    texts = {d.document.id: d.document.text for d in load_documents([tmp_path])}
    assert texts == {"paper": BODY, "essay": BODY,
                     "notes": f"{BODY}\n\nReferences\n\nOur references were checked.\n"}
