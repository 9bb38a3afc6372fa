"""Words broken over two lines by a hyphen: joined with the hyphen when it is the word's own."""
from __future__ import annotations

from nlp.broken_words import join_broken_words
from nlp.pdf_text import pdf_text
from tests.nlp.test_doc_formats import make_pdf


def test_a_typesetters_hyphen_goes_a_words_own_stays():
    # every break became one word: "firstline", "COVID19" was "COVID-\n19" left broken, "IL6" ...
    text = ("Metformin remains the recommended first-\nline therapy; its treat-\nment of type 2 diabetes was studied\n"
            "in patients with COVID-\n19 and raised IL-\n6. Long-\nterm use in well-\nknown co-\nhorts was re-\n"
            "viewed, as was the pre-\nvious anti-\nbody data. The high-\nest dose of anti-\ninflammatory drugs\n"
            "was lower in T-\ncell lymphoma; Pfizer-\nBioNTech gave a 5-\nfold rise.")
    assert join_broken_words(text) == (
        "Metformin remains the recommended first-line therapy; its treatment of type 2 diabetes was studied\n"
        "in patients with COVID-19 and raised IL-6. Long-term use in well-known cohorts was reviewed, as was the "
        "previous antibody data. The highest dose of anti-inflammatory drugs\nwas lower in T-cell lymphoma; "
        "Pfizer-BioNTech gave a 5-fold rise.")


def test_the_documents_own_words_decide():
    # written whole or hyphenated elsewhere in the document: as the document writes it (most often)
    assert join_broken_words("a first-\nline drug; firstline, first-line and firstline") == \
        "a firstline drug; firstline, first-line and firstline"
    assert join_broken_words("an anti-\nbody; anti-body and anti-body") == "an anti-body; anti-body and anti-body"
    assert join_broken_words("the pre-\nvalence; prevalence") == "the prevalence; prevalence"
    # a bound prefix stays before a word the document uses on its own, not before a syllable
    assert join_broken_words("non-\nsmall cell lung cancer is not small") == "non-small cell lung cancer is not small"
    assert join_broken_words("the co-\nhort was small") == "the cohort was small"
    # a prefix before an ending is the word, not a compound; a dash after a space is not a broken word
    assert join_broken_words("the high-\ner dose and a drug short-\nage; rose -\nmostly") == \
        "the higher dose and a drug shortage; rose -\nmostly"
    # a hyphen left hanging for a word that comes later stays, with its space
    assert join_broken_words("pre-\nand postoperative, first-\nor second-line") == \
        "pre- and postoperative, first- or second-line"


def test_pdf_keeps_hyphens_of_words_broken_at_a_lines_end(tmp_path):
    pdf = make_pdf(tmp_path / "trial.pdf", [[
        "Metformin is a first-", "line treatment for type 2 diabetes. Patients with COVID-",
        "19 had raised IL-", "6 levels; the long-", "term risk of lactic acido-", "sis was low."]])
    assert pdf_text(pdf) == ("Metformin is a first-line treatment for type 2 diabetes. Patients with COVID-19 had "
                             "raised IL-6 levels; the long-term risk of lactic acidosis was low.")
