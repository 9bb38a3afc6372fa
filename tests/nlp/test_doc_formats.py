"""Documents in HTML, PubMed XML and PDF: read as text a block per paragraph, ingested like .txt files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.doc_formats import html_text
from nlp.errors import NLPError
from nlp.loaders import collect_files, gone_documents, load_documents
from tests.conftest import kgnlp, kgnlp_json, write_seed


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A minimal PDF with a text layer: each page's lines in Helvetica, top to bottom (offsets computed, so the
    cross-reference table is exact)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for lines in pages:
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops += [f"({escaped}) Tj", "T*"]
        ops.append("ET")
        stream = "\n".join(ops)
        objects.append(f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream")
        content = len(objects)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
                       "/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(f"{len(objects)} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(out)
    return path


PUBMED = """<?xml version="1.0" ?>
<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2024//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_240101.dtd">
<PubmedArticleSet>
<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM"><PMID Version="1">11111111</PMID>
<Article><ArticleTitle>Metformin and <i>lactic</i> acidosis.</ArticleTitle>
<Abstract><AbstractText Label="BACKGROUND">Metformin treats type 2 diabetes.</AbstractText>
<AbstractText Label="RESULTS">Metformin can cause lactic acidosis in renal failure.</AbstractText></Abstract>
</Article></MedlineCitation></PubmedArticle>
<PubmedArticle><MedlineCitation><PMID Version="1">22222222</PMID>
<Article><ArticleTitle>Warfarin bleeding risk</ArticleTitle>
<Abstract><AbstractText>Warfarin can cause bleeding.</AbstractText></Abstract></Article></MedlineCitation>
</PubmedArticle>
</PubmedArticleSet>
"""


def test_html_text_keeps_visible_text_a_block_per_paragraph():
    page = ("<html><head><title>Q3 &amp; outlook</title><style>p {color: red}</style>"
            "<script>if (a < b) { alert('x') }</script></head><body><h1>Northwind</h1>"
            "<p>Northwind&nbsp;Therapeutics said revenue rose.<br>Sales grew.</p>"
            "<ul><li>one <b>bold</b> item</li></ul><table><tr><th>Company</th><th>City</th></tr>"
            "<tr><td>Northwind</td><td>Boston</td></tr></table><p>caf&eacute;</p></body></html>")
    assert html_text(page).split("\n\n") == [
        "Q3 & outlook", "Northwind", "Northwind Therapeutics said revenue rose.", "Sales grew.", "one bold item",
        "Company | City", "Northwind | Boston", "café"]


def test_html_head_left_open_ends_at_the_body():
    assert html_text("<html><head><title>T</title><body><p>Body text.</p>") == "T\n\nBody text."


def test_html_head_left_open_ends_at_the_first_body_element():
    # neither </head> nor <body>: a browser starts the body at the <p>; the whole page was read as its head
    assert html_text("<html><head><title>T</title><meta charset=utf-8><p>Body text.</p>") == "T\n\nBody text."


def test_html_select_options_and_svg_titles_do_not_swallow_the_page():
    # an unclosed <option> kept '</select>' from ending the skipped select: the rest of the page was lost; an icon's
    # <svg><title> was added to the page's title
    page = ("<html><head><title>Deal news</title></head><body><a><svg><title>Share icon</title><path d='M0'/></svg>"
            "</a><form><select><option>Sort<option>Newest</select></form><p>Pfizer bought Seagen.</p></body></html>")
    assert html_text(page) == "Deal news\n\nPfizer bought Seagen."


def test_html_hidden_elements_menus_cookie_banners_and_inline_xbrl_header_are_left_out():
    page = ("<body><div style='display:none'><ix:header><ix:hidden><ix:nonNumeric name='dei:DocumentType'>10-K"
            "</ix:nonNumeric></ix:hidden></ix:header></div>"
            "<nav><a>Home</a> <a>Markets</a></nav><div id='onetrust-consent-sdk'><p>We use cookies.</p></div>"
            "<div class='informed-consent'><p>Consent was obtained.</p></div>"
            "<p>Revenue was $<ix:nonFraction name='us-gaap:Revenues'>394,328</ix:nonFraction> million.</p>"
            "<ul><li hidden>tooltip<li>Apple is based in Cupertino.</ul><div hidden><p>Popup<div>text</div></div>"
            "<span style='color:red; visibility: hidden'>x</span><dialog>Subscribe</dialog><p>End.<button>Share"
            "</button></p>"
            "</body>")
    assert html_text(page).split("\n\n") == ["Consent was obtained.", "Revenue was $394,328 million.",
                                             "Apple is based in Cupertino.", "End."]


def test_html_footnote_marks_glued_to_words_are_left_out_exponents_kept():
    page = ("<p>Metformin<sup>1</sup> treats diabetes<sup><a href='#fn2'>[2]</a></sup>. Pfizer<sup>(3)</sup> and "
            "Seagen<sup>*</sup> agreed. Dose 10<sup>6</sup> cells/m<sup>2</sup>.</p><p><sup>1</sup> A note.</p>")
    assert html_text(page).split("\n\n") == [
        "Metformin treats diabetes. Pfizer and Seagen agreed. Dose 106 cells/m2.", "1 A note."]


def test_html_line_break_inside_a_sentence_and_plain_text_filing_in_pre():
    # a <br/> before a lowercase word is inside a sentence (it made two paragraphs of one sentence); a <pre> filing's
    # blank lines separate its paragraphs (it was one block), its hard-wrapped lines are one paragraph
    page = ("<p>Northwind Therapeutics<br/>said revenue rose.<br>Sales grew.<br><br>Outlook<br/>Strong.</p>"
            "<pre>\nITEM 1. BUSINESS\n\nApple Inc. designs smartphones and\r\npersonal computers.   It is\n"
            "Headquartered in Cupertino.\n\n\nITEM 1A. RISK FACTORS\n</pre>")
    assert html_text(page).split("\n\n") == [
        "Northwind Therapeutics said revenue rose.", "Sales grew.", "Outlook", "Strong.", "ITEM 1. BUSINESS",
        "Apple Inc. designs smartphones and personal computers. It is\nHeadquartered in Cupertino.",
        "ITEM 1A. RISK FACTORS"]


def test_html_title_is_read_only_when_no_h1_says_the_same():
    # the title and the <h1> after the site's header were both read: the title sentence twice, each fact it gave twice
    page = ("<html><head><title>Pfizer to Acquire Seagen | Reuters</title></head><body><header><a>Reuters</a>"
            "</header><h1>Pfizer to acquire Seagen</h1><p>Pfizer said on Monday it would buy Seagen.</p></body></html>")
    assert html_text(page).split("\n\n") == ["Reuters", "Pfizer to acquire Seagen",
                                             "Pfizer said on Monday it would buy Seagen."]
    site_first = page.replace("Pfizer to Acquire Seagen | Reuters", "Reuters \u2014 Pfizer to acquire Seagen.")
    assert html_text(site_first).count("Pfizer to acquire Seagen") == 1
    # a title the headings do not say stays the first block, site name and all
    other = page.replace("<h1>Pfizer to acquire Seagen</h1>", "<h1>Deal news</h1>")
    assert html_text(other).split("\n\n")[:2] == ["Pfizer to Acquire Seagen | Reuters", "Reuters"]
    # a hidden <h1> does not stand for the title
    hidden = page.replace("<h1>", "<h1 hidden>")
    assert html_text(hidden).split("\n\n")[0] == "Pfizer to Acquire Seagen | Reuters"
    # an EDGAR filing's title is its file name, no heading
    for name in ("nwt-20240311", "d512345d8k.htm"):
        assert html_text(f"<title>{name}</title><p>FORM 8-K</p>") == "FORM 8-K"
    assert html_text("<title>COVID-19</title><p>Text.</p>") == "COVID-19\n\nText."
    # nor does a site's logo in an <h1> (the short end of the title): the headline is kept
    logo = "<title>Metformin lowers HbA1c | Health News</title><h1>Health News</h1><p>Text.</p>"
    assert html_text(logo).split("\n\n")[0] == "Metformin lowers HbA1c | Health News"


def test_html_page_chrome_is_left_out_an_articles_own_aside_and_footer_kept():
    page = ("<body><div class='breadcrumbs'>Home &gt; Health</div><main><article><h1>Metformin and B12</h1>"
            "<p>Metformin can cause vitamin B12 deficiency.</p><aside><p>Note: the trial was open-label.</p></aside>"
            "<footer><p>1. Smith J. Diabetes Care 2023.</p></footer></article>"
            "<div class='related-articles'><p>Warfarin can cause bleeding.</p></div>"
            "<div class='share-buttons'>Share on X</div><section id='comments'><p>Great read!</p></section>"
            "<div class='ad-slot'>Buy now</div></main><aside><h2>Most read</h2><p>Aspirin treats pain.</p></aside>"
            "<div role='complementary'>Trending</div><div class='newsletter-signup'>Sign up</div>"
            "<footer><p>\u00a9 2024 Health News. Contact us.</p></footer><div role='contentinfo'>Terms</div></body>")
    assert html_text(page).split("\n\n") == [
        "Metformin and B12", "Metformin can cause vitamin B12 deficiency.", "Note: the trial was open-label.",
        "1. Smith J. Diabetes Care 2023."]
    # content whose class only looks like chrome stays: a filing's related-party note, share prices, a layout class
    filing = ("<body class='sidebar'><div class='has-sidebar'><div id='related-party'><p>Related party transactions "
              "were $2 million.</p></div><td class='share'>Earnings per share rose.</td><section><aside><p>Risk: "
              "Warfarin can cause bleeding.</p></aside></section><main><footer><p>Aspirin treats pain.</p></footer>"
              "</main></div></body>")
    assert html_text(filing).split("\n\n") == [
        "Related party transactions were $2 million.", "Earnings per share rose.", "Risk: Warfarin can cause bleeding.",
        "Aspirin treats pain."]
    # a page that is all chrome (a blog post in a page-level <aside>) is read rather than lost
    assert html_text("<title>T</title><aside><p>Aspirin treats pain.</p></aside>") == "T\n\nAspirin treats pain."


def test_html_soft_hyphens_and_zero_width_spaces_are_taken_out_of_words():
    assert html_text("<p>Metfor&shy;min and war\u200bfarin&#8217;s co&#173;st</p>") == "Metformin and warfarin’s cost"


def test_html_in_a_declared_charset_and_undeclared_non_utf8(tmp_path):
    page = tmp_path / "filing.htm"
    page.write_bytes('<meta charset="windows-1252"><p>Zürich — 10 €</p>'.encode("cp1252"))
    [doc] = load_documents([page])
    assert doc.document.text == "Zürich — 10 €" and doc.document.id == "filing"
    bad = tmp_path / "bad.html"
    bad.write_bytes("<p>Zürich</p>".encode("latin-1"))
    with pytest.raises(NLPError, match="not UTF-8 and declares no charset"):
        load_documents([bad])
    empty = tmp_path / "empty.html"
    empty.write_text("<html><script>x()</script></html>", encoding="utf-8")
    with pytest.raises(NLPError, match="no visible text"):
        load_documents([empty])


def test_html_saying_latin1_or_ascii_is_read_as_windows_1252_xml_declaration_and_utf16_bom(tmp_path):
    # a filing saying ISO-8859-1 or US-ASCII holds Windows-1252 quotes: read as Latin-1 the 0x92 was a control
    # character, read as ASCII the file was refused; an XHTML page's XML declaration and a UTF-16 page were refused
    pages = {"latin.htm": b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"><p>The '
                          b'Company\x92s caf\xe9 \x96 \x93new\x94</p>',
             "ascii.htm": b'<meta charset="us-ascii"><p>The Company\x92s caf\xe9 \x96 \x93new\x94</p>',
             "page.xhtml": b'<?xml version="1.0" encoding="windows-1252"?>\n<html><body><p>The Company\x92s caf\xe9 '
                           b'\x96 \x93new\x94</p></body></html>',
             "utf16.html": "<p>The Company\u2019s caf\u00e9 \u2013 \u201cnew\u201d</p>".encode("utf-16")}
    for name, raw in pages.items():
        (tmp_path / name).write_bytes(raw)
        [doc] = load_documents([tmp_path / name])
        assert doc.document.text == "The Company\u2019s caf\u00e9 \u2013 \u201cnew\u201d", name


def test_pubmed_xml_gives_a_document_per_article(tmp_path):
    xml = tmp_path / "pubmed.xml"
    xml.write_text(PUBMED, encoding="utf-8")
    docs = [d.document for d in load_documents([xml])]
    assert [d.id for d in docs] == ["PMID:11111111", "PMID:22222222"]
    assert docs[0].text == ("Metformin and lactic acidosis.\n\nBACKGROUND: Metformin treats type 2 diabetes.\n\n"
                            "RESULTS: Metformin can cause lactic acidosis in renal failure.")
    assert [d.source for d in docs] == [f"{xml}:1", f"{xml}:2"]
    # an article gone from the file is a gone document, as a line gone from a .jsonl file is
    stored = {d.id: d.source for d in docs}
    assert gone_documents(stored, [xml], {"PMID:11111111"}) == ["PMID:22222222"]


def test_pubmed_book_chapters_other_english_abstracts_and_vernacular_titles_are_read(tmp_path):
    xml = tmp_path / "mixed.xml"
    xml.write_text("""<PubmedArticleSet>
<PubmedBookArticle><BookDocument><PMID Version="1">20301428</PMID><Book><BookTitle>GeneReviews</BookTitle></Book>
<ArticleTitle>Cystic Fibrosis</ArticleTitle><Abstract><AbstractText Label="DIAGNOSIS">Sweat chloride is <i>raised</i>.
</AbstractText></Abstract></BookDocument></PubmedBookArticle>
<PubmedArticle><MedlineCitation><PMID>33</PMID><Article><ArticleTitle></ArticleTitle>
<VernacularTitle>Metformin bei \u00e4lteren Patienten.</VernacularTitle></Article>
<OtherAbstract Type="plain-language-summary" Language="eng"><AbstractText>Metformin lowers blood sugar.</AbstractText>
</OtherAbstract><OtherAbstract Type="Publisher" Language="ger"><AbstractText>Metformin senkt den Blutzucker.
</AbstractText></OtherAbstract></MedlineCitation></PubmedArticle>
</PubmedArticleSet>""", encoding="utf-8")
    docs = [d.document for d in load_documents([xml])]
    assert [(d.id, d.text, d.source) for d in docs] == [
        ("PMID:20301428", "Cystic Fibrosis\n\nDIAGNOSIS: Sweat chloride is raised.", f"{xml}:1"),
        ("PMID:33", "Metformin bei \u00e4lteren Patienten.\n\nMetformin lowers blood sugar.", f"{xml}:2")]


def test_pubmed_translated_title_is_read_without_its_brackets(tmp_path):
    # PubMed brackets the English translation of a title published in another language: the brackets were read
    # into the first sentence ("[Effect of metformin ...].")
    xml = tmp_path / "translated.xml"
    titles = ["[Effect of metformin on [18F]FDG uptake in type 2 diabetes].",
              "[18F]FDG uptake after metformin [pilot]."]
    xml.write_text("<PubmedArticleSet>" + "".join(
        f"<PubmedArticle><MedlineCitation><PMID>{n}</PMID><Article><ArticleTitle>{title}</ArticleTitle></Article>"
        "</MedlineCitation></PubmedArticle>" for n, title in enumerate(titles, 1)) + "</PubmedArticleSet>",
        encoding="utf-8")
    assert [d.document.text for d in load_documents([xml])] == [
        "Effect of metformin on [18F]FDG uptake in type 2 diabetes.", titles[1]]  # a title only starting with one


def test_markdown_front_matter_is_left_out_its_title_kept_as_a_heading(tmp_path):
    (tmp_path / "post.md").write_text('---\ntitle: "Metformin and lactic acidosis"\nauthor: Ada Quint\n'
                                      "tags: [metformin, T2D]\n---\n\nMetformin treats type 2 diabetes.\n",
                                      encoding="utf-8")
    (tmp_path / "note.md").write_text("---\ndate: 2024-03-01\n...\nAspirin causes bleeding.\n", encoding="utf-8")
    (tmp_path / "rule.md").write_text("Intro.\n\n---\n\ntitle: not front matter\n", encoding="utf-8")
    (tmp_path / "breaks.md").write_text("---\nAspirin treats pain.\n---\nWarfarin causes bleeding.\n", encoding="utf-8")
    texts = {d.document.id: d.document.text for d in load_documents([tmp_path])}
    assert texts == {"post": "Metformin and lactic acidosis\n\nMetformin treats type 2 diabetes.\n",
                     "note": "Aspirin causes bleeding.\n",
                     "rule": "Intro.\n\n---\n\ntitle: not front matter\n",  # a rule under text is no front matter
                     "breaks": "---\nAspirin treats pain.\n---\nWarfarin causes bleeding.\n"}  # nor text between rules


def test_pubmed_article_in_two_downloads_is_read_once_a_changed_one_is_named(tmp_path):
    first, second = tmp_path / "a.xml", tmp_path / "b.xml"
    first.write_text(PUBMED, encoding="utf-8")
    second.write_text(PUBMED.replace("11111111", "33333333"), encoding="utf-8")  # 22222222 in both files
    docs = [d.document for d in load_documents([tmp_path])]
    assert [(d.id, d.source) for d in docs] == [("PMID:11111111", f"{first}:1"), ("PMID:22222222", f"{first}:2"),
                                                ("PMID:33333333", f"{second}:1")]
    second.write_text(PUBMED.replace("11111111", "33333333").replace("can cause bleeding", "causes bleeding"),
                      encoding="utf-8")
    with pytest.raises(NLPError, match=rf"'PMID:22222222' appears twice with a different title or abstract "
                                       rf"\({first}:2 and {second}:2\)"):
        load_documents([tmp_path])
    (tmp_path / "c.jsonl").write_text('{"id": "x", "text": "A."}\n{"id": "x", "text": "A."}\n', encoding="utf-8")
    with pytest.raises(NLPError, match=r"'x' appears twice \(.*c.jsonl:1 and .*c.jsonl:2\)"):
        load_documents([tmp_path / "c.jsonl"])


def test_large_pubmed_file_is_read_an_article_at_a_time(tmp_path):
    import tracemalloc

    refs = "<Reference><Citation>Smith J. A cited paper on metformin. J Med. 2001;1:1-10.</Citation></Reference>" * 60
    xml = tmp_path / "big.xml"
    with open(xml, "w", encoding="utf-8") as f:
        f.write("<PubmedArticleSet>")
        for n in range(1, 401):
            f.write(f"<PubmedArticle><MedlineCitation><PMID>{n}</PMID><Article><ArticleTitle>Metformin study {n}."
                    f"</ArticleTitle></Article></MedlineCitation><PubmedData><ReferenceList>{refs}</ReferenceList>"
                    "</PubmedData></PubmedArticle>")
        f.write("</PubmedArticleSet>")
    tracemalloc.start()
    try:
        docs = load_documents([xml])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(docs) == 400 and docs[-1].document.text == "Metformin study 400."
    # read whole, the file's tree took 6 times its size (15 MB for 2.5 MB); an article at a time, a seventh of it
    assert peak < xml.stat().st_size / 2, (peak, xml.stat().st_size)


def test_xml_that_is_not_pubmed_is_refused_named_but_skipped_in_a_folder(tmp_path):
    other = tmp_path / "sitemap.xml"
    other.write_text("<urlset><url>x</url></urlset>", encoding="utf-8")
    with pytest.raises(NLPError, match=r"expected PubMed XML \(a <PubmedArticleSet>\), found <urlset>"):
        load_documents([other])
    broken = tmp_path / "broken.xml"
    broken.write_text("<PubmedArticleSet><PubmedArticle>", encoding="utf-8")
    with pytest.raises(NLPError, match="not well-formed XML"):
        load_documents([broken])
    (tmp_path / "a.txt").write_text("Aspirin.", encoding="utf-8")
    not_read: list[Path] = []
    assert collect_files([tmp_path], not_read) == [tmp_path / "a.txt", broken]
    assert not_read == [other]


def test_pdf_text_layer_a_block_per_page_with_broken_words_joined(tmp_path):
    pdf = make_pdf(tmp_path / "report.pdf", [["Metformin is a first-line treat-", "ment for type 2 diabetes."],
                                             ["Warfarin can cause bleeding."]])
    [doc] = load_documents([pdf])
    assert doc.document.id == "report"
    blocks = doc.document.text.split("\n\n")
    assert len(blocks) == 2
    assert "treatment for type 2 diabetes." in blocks[0].replace("\n", " ")
    assert blocks[1] == "Warfarin can cause bleeding."


def test_pdf_running_heads_page_numbers_ligatures_and_sentences_over_a_page_break(tmp_path):
    # "\xae" is the "fi" ligature in Helvetica's standard encoding: the text layer reads "\ufb01", and "cystic
    # \ufb01brosis" was no longer the seed's "cystic fibrosis"
    pages = [["ACME Pharma - Annual Report 2023", "Cystic \xaebrosis is treated with ivacaftor.", "Page 1 of 4"],
             ["ACME Pharma - Annual Report 2023", "Metformin is a \xaerst-line treatment for type 2 diabe-",
              "Page 2 of 4"],
             ["ACME Pharma - Annual Report 2023", "tes and is often combined", "Page 3 of 4"],
             ["ACME Pharma - Annual Report 2023", "with insulin.", "Warfarin can cause bleeding.", "Page 4 of 4"]]
    [doc] = load_documents([make_pdf(tmp_path / "report.pdf", pages)])
    assert doc.document.text.split("\n\n") == [
        "Cystic fibrosis is treated with ivacaftor.",
        "Metformin is a first-line treatment for type 2 diabetes and is often combined\nwith insulin.\n"
        "Warfarin can cause bleeding."]
    # two pages are too few to tell a running head from text
    [doc] = load_documents([make_pdf(tmp_path / "short.pdf", pages[:2])])
    assert doc.document.text.count("ACME Pharma") == 2


def test_pdf_that_pypdf_mends_reads_quietly_and_one_it_cannot_decode_is_one_clear_error(tmp_path, caplog):
    import logging

    caplog.set_level(logging.WARNING)
    good = make_pdf(tmp_path / "good.pdf", [["Aspirin treats pain."]]).read_bytes()
    mended = tmp_path / "mended.pdf"
    mended.write_bytes(good.replace(b"/Length", b"/Lenxth"))  # pypdf finds the stream's end itself, and warned
    [doc] = load_documents([mended])
    assert doc.document.text == "Aspirin treats pain." and not caplog.records, caplog.records
    odd = tmp_path / "odd.pdf"
    odd.write_bytes(good.replace(b" >>\nstream", b" /Filter /NoSuchDecode >>\nstream"))
    with pytest.raises(NLPError, match=r"'.*odd.pdf' is not a readable PDF \(NotImplementedError: Unsupported filter "
                                       r"/NoSuchDecode\)"):
        load_documents([odd])


def test_pdf_or_html_longer_than_a_document_can_be_is_read_as_parts_of_whole_paragraphs(tmp_path, monkeypatch):
    import nlp.loaders

    # a 400-page report (or a 10-K page) was refused, told to split itself into several documents
    monkeypatch.setattr(nlp.loaders, "MAX_CHARS", 60)
    pdf = make_pdf(tmp_path / "report.pdf", [["Metformin treats type 2 diabetes."], ["Warfarin can cause bleeding."],
                                             ["Aspirin treats pain."]])
    html = tmp_path / "10k.htm"
    html.write_text("<p>Apple Inc. designs smartphones.</p><p>" + "It sells them. " * 6 + "</p>", encoding="utf-8")
    docs = [d.document for d in load_documents([pdf, html])]
    assert [(d.id, d.text, d.source) for d in docs] == [
        ("report#1", "Metformin treats type 2 diabetes.", f"{pdf}:1"),
        ("report#2", "Warfarin can cause bleeding.\n\nAspirin treats pain.", f"{pdf}:2"),
        ("10k#1", "Apple Inc. designs smartphones.\n\nIt sells them.", f"{html}:1"),  # a long paragraph by sentence
        ("10k#2", "It sells them. It sells them. It sells them. It sells them.", f"{html}:2"),
        ("10k#3", "It sells them.", f"{html}:3")]
    # a part gone (the file shorter) is a gone document, as an article gone from a PubMed file is
    stored = {d.id: d.source for d in docs}
    assert gone_documents(stored, [pdf, html], {"report#1", "10k#1", "10k#2"}) == ["report#2", "10k#3"]


def test_pdf_without_text_or_not_a_pdf_is_one_clear_error(tmp_path):
    blank = make_pdf(tmp_path / "scan.pdf", [[]])
    with pytest.raises(NLPError, match="no text layer"):
        load_documents([blank])
    fake = tmp_path / "fake.pdf"
    fake.write_text("just text", encoding="utf-8")
    with pytest.raises(NLPError, match="not a readable PDF"):
        load_documents([fake])


def test_encrypted_pdf_is_refused(tmp_path):
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(tmp_path / "plain.pdf", [["Aspirin treats pain."]])
    writer = PdfWriter()
    for page in PdfReader(str(plain)).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    locked = tmp_path / "locked.pdf"
    with open(locked, "wb") as f:
        writer.write(f)
    with pytest.raises(NLPError, match="encrypted PDF"):
        load_documents([locked])


def test_ingest_a_folder_of_html_pubmed_and_pdf_and_ask(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pubmed.xml").write_text(PUBMED, encoding="utf-8")
    (docs / "news.html").write_text("<html><head><title>Deal</title></head><body><p>Lisinopril is used to treat "
                                    "hypertension.</p></body></html>", encoding="utf-8")
    make_pdf(docs / "label.pdf", [["Amlodipine is prescribed for angina."]])
    seed = write_seed(tmp_path / "seed", [
        {"id": "chem:lisinopril", "name": "lisinopril", "type": "Chemical"},
        {"id": "chem:warfarin", "name": "warfarin", "type": "Chemical"},
        {"id": "dis:hypertension", "name": "hypertension", "type": "Disease"},
        {"id": "dis:bleeding", "name": "bleeding", "type": "Disease"}])
    ws = tmp_path / "ws"
    out = kgnlp_json("ingest", str(docs), "--seed", str(seed), "-w", str(ws))
    assert out["documents"] == 4 and out["not_read"] == []
    listed = kgnlp("documents", "-w", str(ws), check=True).stdout.split()
    assert sorted(listed) == ["PMID:11111111", "PMID:22222222", "label", "news"]
    for question, answer, source in (("What does lisinopril treat?", "hypertension", "news"),
                                     ("What does warfarin cause?", "bleeding", "PMID:22222222")):
        found = json.dumps(kgnlp_json("ask", question, "-w", str(ws)))
        assert answer in found and source in found, found
    # the same folder again adds nothing; an article removed from the XML file is named as gone
    (docs / "pubmed.xml").write_text(PUBMED.replace(PUBMED[PUBMED.index("<PubmedArticle><MedlineCitation><PMID "
                                                                       'Version="1">2222'):
                                                     PUBMED.index("</PubmedArticleSet>")], ""), encoding="utf-8")
    again = kgnlp_json("ingest", str(docs), "-w", str(ws))
    assert again["skipped"] == 3 and again["gone"] == ["PMID:22222222"]


def test_ask_shows_a_pdf_sentence_over_two_lines_on_one_line(tmp_path):
    # the sentence's line break was printed as it is: the evidence ran onto a line of its own
    pdf = make_pdf(tmp_path / "paper.pdf", [["Results: Warfarin can cause bleeding, and the risk",
                                             "rose when aspirin was added."]])
    seed = write_seed(tmp_path / "seed", [{"id": "chem:warfarin", "name": "warfarin", "type": "Chemical"},
                                          {"id": "dis:bleeding", "name": "bleeding", "type": "Disease"}])
    ws = str(tmp_path / "ws")
    kgnlp("ingest", str(pdf), "--seed", str(seed), "-w", ws, check=True)
    lines = kgnlp("ask", "What does warfarin cause?", "-w", ws, check=True).stdout.splitlines()
    assert lines[1].endswith("— paper: Results: Warfarin can cause bleeding, and the risk rose when aspirin was "
                             "added."), lines


def test_utf16_text_is_read_and_an_office_file_is_refused_saying_what_to_do(tmp_path):
    # Notepad's "Unicode" (UTF-16 with its BOM) was refused as "a binary file"
    (tmp_path / "note.txt").write_bytes("Warfarin can cause bleeding.\r\n".encode("utf-16"))
    (tmp_path / "lines.jsonl").write_bytes('{"id": "a", "text": "Aspirin treats pain."}\n'.encode("utf-16"))
    docs = [d.document for d in load_documents([tmp_path / "note.txt", tmp_path / "lines.jsonl"])]
    assert [(d.id, d.text) for d in docs] == [("note", "Warfarin can cause bleeding.\r\n"),
                                             ("a", "Aspirin treats pain.")]
    (tmp_path / "memo.docx").write_bytes(b"PK\x03\x04")
    with pytest.raises(NLPError, match=r"^Cannot read '.*memo.docx': a word-processor document is not read; save it "
                                       r"as PDF, HTML or plain text \(.txt\) and ingest that.$"):
        load_documents([tmp_path / "memo.docx"])


def test_gzipped_pubmed_file_is_read_in_a_folder_and_a_damaged_one_named(tmp_path):
    import gzip

    # PubMed's baseline files (pubmed24n0001.xml.gz) were refused, and left out of a folder as "not read"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "pubmed24n0001.xml.gz").write_bytes(gzip.compress(PUBMED.encode("utf-8")))
    (docs / "other.xml.gz").write_bytes(gzip.compress(b"<filing><item>10-K</item></filing>"))
    not_read: list[Path] = []
    read = [(d.document.id, d.document.source) for d in load_documents([docs], not_read)]
    assert read == [("PMID:11111111", f"{docs / 'pubmed24n0001.xml.gz'}:1"),
                    ("PMID:22222222", f"{docs / 'pubmed24n0001.xml.gz'}:2")]
    assert not_read == [docs / "other.xml.gz"]
    assert gone_documents(dict(read), [docs], {"PMID:11111111"}) == ["PMID:22222222"]
    cut = tmp_path / "cut.xml.gz"
    cut.write_bytes(gzip.compress(PUBMED.encode("utf-8"))[:-30])
    with pytest.raises(NLPError, match=r"'.*cut.xml.gz' is not a readable gzip file"):
        load_documents([cut])


def test_html_line_break_in_a_table_cell_stays_in_its_row():
    # a <br> before a capital in a cell started a paragraph: the row was cut in two ('(Commission' / 'File Number)')
    page = ("<table><tr><td>Delaware</td><td>(Commission<br>File Number)</td><td>(I.R.S. Employer<br/>"
            "Identification No.)</td></tr><tr><td>Boston<br>\n<br>Outlook</td></tr></table><p>Sales grew.<br>Margins"
            " fell.</p>")
    assert html_text(page).split("\n\n") == [
        "Delaware | (Commission File Number) | (I.R.S. Employer Identification No.)",
        "Boston", "Outlook",  # two <br> in a row are a blank line, in a cell too (a page laid out in a table)
        "Sales grew.", "Margins fell."]  # outside a table a <br> still breaks the paragraph


def test_html_paragraphs_in_a_table_cell_stay_in_its_row():
    # a <p> or <div> in a cell ended the paragraph: an 8-K's cover row became five ('Delaware', '(Commission', ...)
    page = ("<table><tr><td><p>Delaware</p></td><td><p>(Commission</p><p>File Number)</p></td><td><div>Item 1.01"
            "</div><div>Entry into a Material Definitive Agreement</div></td></tr>"
            "<tr><td><p>Boston</p><div>Outlook</div></td></tr></table><p>Sales grew.</p>")
    assert html_text(page).split("\n\n") == [
        "Delaware | (Commission File Number) | Item 1.01 Entry into a Material Definitive Agreement",
        "Boston", "Outlook",  # a row of one cell (a page laid out in a table) keeps its paragraphs
        "Sales grew."]


def test_a_long_filings_later_parts_keep_the_terms_its_first_part_defined(tmp_path, monkeypatch):
    import nlp.loaders
    from kg.records import Document
    from kg.stores.sqlite import SQLiteStore
    from nlp.extractor import Extractor
    from nlp.loaders import continues

    # a filing over MAX_CHARS is read in parts; the definition sits in the first, and "the Company" of the later parts
    # was made an entity 'Company'
    monkeypatch.setattr(nlp.loaders, "MAX_CHARS", 100)
    page = tmp_path / "8k.htm"
    page.write_text("<p>On March 11, 2024, Northwind Therapeutics, Inc. (the \u201cCompany\u201d) entered into an "
                    "agreement.</p><p>The Company expects the transaction to close in the second quarter.</p>"
                    "<p>The Board of Directors of the Company approved it.</p>", encoding="utf-8")
    docs = [d.document for d in load_documents([page])]
    assert [d.id for d in docs] == ["8k#1", "8k#2", "8k#3"]
    out = list(Extractor.for_store(SQLiteStore.open(tmp_path / "g.db")).extract(docs))
    assert {m.entity_id for ex in out for m in ex.mentions if m.text == "Company"} == {"org:northwind-therapeutics"}
    assert not [e.name for ex in out for e in ex.entities if "Company" in e.name], [ex.entities for ex in out]
    # only the next part of the same file: not a .jsonl's next line, nor another file
    assert continues(docs[0], docs[1]) and continues(docs[1], docs[2]) and not continues(docs[0], docs[2])
    assert not continues(Document("a#1", "x", "a.jsonl:1"), Document("a#2", "y", "a.jsonl:2"))
    assert not continues(docs[0], Document("8k#2", "y", str(tmp_path / "other.htm:2")))


PDF_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pdf"  # written by make_pdfs.py there


@pytest.mark.parametrize("name", ["two_column_frames.pdf", "two_column_rows.pdf"])
def test_pdf_of_two_columns_is_read_column_after_column(name):
    # drawn row by row across the columns, the text layer interleaved them: 'Metformin is a first-line treatment for'
    # was followed by 'Warfarin can cause bleeding, and the', and no sentence read whole
    [doc] = load_documents([PDF_FIXTURES / name])
    text = doc.document.text.replace("\n", " ")
    for sentence in ("Metformin is a first-line treatment for type 2 diabetes in adults.",
                     "Warfarin can cause bleeding, and the risk rises when aspirin is given with it.",
                     "Amlodipine is prescribed for angina and for high blood pressure in the elderly."):
        assert sentence in text, text
    order = [text.index(w) for w in ("Drug safety notes", "Metformin", "Lisinopril", "Warfarin", "Amlodipine")]
    assert order == sorted(order), text


def test_pdf_table_drawn_row_by_row_stays_read_row_by_row():
    # short cells side by side are a table's rows, not two columns of text
    [doc] = load_documents([PDF_FIXTURES / "table_rows.pdf"])
    lines = doc.document.text.split("\n")
    assert lines[lines.index("Metformin") + 1] == "500 mg twice daily", lines
    assert lines[lines.index("Warfarin") + 1] == "5 mg once daily", lines


def _in_order(text: str, parts: list[str]) -> None:
    """Each of ``parts`` is in ``text`` whole (its lines joined), one after the other."""
    text = " ".join(text.split())
    for part in parts:
        assert part in text, (part, text)
    order = [text.index(part) for part in parts]
    assert order == sorted(order), text


@pytest.mark.parametrize("name", ["paper_frames.pdf", "paper_rows.pdf"])
def test_pdf_paper_page_reads_title_abstract_columns_and_a_full_width_caption_between_them(name):
    # a full-width figure caption mid-page was read with the left column, after its text below the caption and before
    # the right column's above it
    [doc] = load_documents([PDF_FIXTURES / name])
    _in_order(doc.document.text, [
        "Anticoagulants in older adults", "Ana Ruiz, Ben Okafor and Chen Li, City Hospital", "Abstract",
        "Bleeding was more common on warfarin than on apixaban, and falls did not change the balance",
        "Its dose must be checked often because food and other drugs change its effect.",
        "Its dose is lowered for patients with poor kidney function or low body weight.",
        "Figure 1. Major bleeding events per hundred patient-years by drug and age group in the trial.",
        "Patients who fell twice or more still had fewer strokes on treatment.",
        "No patient stopped apixaban because of a change in it.",
        "Table 1. Events by age.",  # short, but centred across the columns
        "Strokes were fewest on apixaban.", "Bleeds rose with age on warfarin."])


def test_pdf_of_three_columns_drawn_row_by_row_is_read_column_after_column():
    # the second and third columns were read together, row by row; a centred caption's last line, starting in the
    # middle column, stays with the caption
    [doc] = load_documents([PDF_FIXTURES / "three_columns_rows.pdf"])
    _in_order(doc.document.text, [
        "Hospital formulary news",
        "Doses above two grams a day are reviewed by the diabetes team.",
        "Lisinopril tablets are short in supply, so ramipril is offered to patients starting treatment for "
        "hypertension. Patients already on lisinopril keep it until stocks run out.",
        "Warfarin clinics move to the new building.",
        "Table 1. Drugs added to the formulary this year, with their indications, usual doses and the teams that may "
        "prescribe them, as agreed by the drugs and therapeutics committee.",
        "Apixaban is added for atrial fibrillation in patients who cannot have regular blood tests.",
        "Empagliflozin is added for heart failure and for type 2 diabetes with kidney disease.",
        "Both need a kidney function test before the first dose."])


def test_pdf_last_page_left_column_longer_than_the_right_is_read_whole_before_it():
    # the left column's lines below the right one's last were read after it, as if under both columns
    [doc] = load_documents([PDF_FIXTURES / "last_page_rows.pdf"])
    _in_order(doc.document.text, [
        "Bleeding was more common on warfarin, and strokes were as rare on both. Falls did not change the balance of "
        "benefit and harm, so age alone is no reason to stop an anticoagulant.",
        "Funding came from the City Hospital research fund."])
    assert doc.document.text.endswith("Data are shared on request.\n1"), doc.document.text  # the page number stays last


def test_pdf_index_lines_of_dot_leaders_are_not_read_as_full_width():
    from nlp.pdf_text import _in_columns

    # a two-column index (libtasn1.pdf's, its lines as pypdf places them): a line of dot leaders looks wide, but the
    # right column's lines beside it keep it in its column (read as a full-width line, it cut the columns in bands)
    dots = " ." * 30
    left = [(511.1, 733.9, "32"), (90.0, 684.1, "Concept Index"), (89.5, 643.4, "A"),
            (90.0, 629.0, "asn1Coding program" + dots + " 5"), (90.0, 618.3, "asn1Decoding program" + dots + " 7"),
            (90.0, 607.6, "asn1Parser program" + dots + " 5"), (90.0, 597.0, "ASN.1 schema" + dots + " 2"),
            (89.5, 564.8, "F"), (90.0, 550.3, "FDL, GNU Free Documentation License" + dots[:16] + " 24"),
            (90.0, 539.7, "Future developments" + dots + " 4"), (89.5, 505.8, "H"),
            (90.0, 491.3, "Header file libtasn1.h" + dots + " 4")]
    right = [(315.0, 629.2, "Main type asn1 node" + dots + " 4"), (314.5, 597.4, "P"),
             (315.0, 583.2, "Porting" + dots + " 1"), (314.5, 551.4, "S"),
             (315.0, 537.2, "Supported ASN.1 types, list of" + dots[:36] + " 2"), (314.5, 505.4, "T"),
             (315.0, 491.3, "threads" + dots + " 1")]
    lines = [(x, y, text, 9.0) for x, y, text in left + right]
    assert [line[2] for line in _in_columns(sorted(lines, key=lambda line: -line[1]), 612.0)] == [
        line[2] for line in lines]


def test_pdf_long_lines_beside_scattered_ones_keep_the_pages_order():
    from nlp.pdf_text import _in_columns

    # three long lines, each with a short one far right of it, but no second column starting on two rows (a form):
    # not columns (reading them as columns failed with an IndexError, which said the PDF was not readable)
    lines = [(72.0, 700.0 - 14 * n, f"Field {n} of the form, to be filled in by the applicant or by a carer", 10.0)
             for n in range(3)]
    lines += [(x, 700.0 - 14 * n, "Yes", 10.0) for n, x in enumerate((240.0, 400.0, 560.0))]
    assert _in_columns(lines, 612.0) is None


@pytest.mark.parametrize("step,error", [("_in_columns", IndexError), ("_in_columns", ZeroDivisionError),
                                        ("_in_columns", TypeError), ("_lines", ValueError)])
def test_pdf_whose_column_ordering_slips_is_read_in_the_pages_own_order(monkeypatch, step, error):
    # a slip in reordering a page's columns said a valid PDF was "not a readable PDF"
    import nlp.pdf_text
    from pypdf import PdfReader

    pdf = PDF_FIXTURES / "two_column_rows.pdf"

    def slip(*args):
        raise error("a slip in the geometry")

    monkeypatch.setattr(nlp.pdf_text, step, slip)
    [doc] = load_documents([pdf])
    own_order = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert doc.document.text.split() == own_order.split()
    assert "Metformin is a first-line treatment for\nWarfarin can cause" in doc.document.text  # rows, not columns


def test_html_h1_in_a_table_cell_still_says_the_pages_title():
    # a heading in a layout table's cell is read with its row: the title was no longer known as said, and read twice
    page = ("<title>Acme news</title><table><tr><td><p>Posted May 2.</p><h1>Acme news</h1><p>Acme grew.</p></td>"
            "</tr></table>")
    assert html_text(page).split("\n\n") == ["Posted May 2.", "Acme news", "Acme grew."]


def test_a_changed_part_of_a_long_filing_still_keeps_the_terms_its_unchanged_first_part_defined(tmp_path, monkeypatch):
    import nlp.loaders
    from kg.records import Extraction
    from kg.stores.sqlite import SQLiteStore
    from nlp.ingest import ingest_documents

    # the unchanged parts are skipped, so the changed one was read alone: its "the Company" became 'Company'
    monkeypatch.setattr(nlp.loaders, "MAX_CHARS", 100)
    page = tmp_path / "8k.htm"
    first = ("<p>On March 11, 2024, Northwind Therapeutics, Inc. (the \u201cCompany\u201d) entered into an "
             "agreement.</p><p>The Company expects the transaction to close in the second quarter.</p>")
    page.write_text(first, encoding="utf-8")
    store = SQLiteStore.open(tmp_path / "g.db")
    ingest_documents(store, load_documents([page]))
    page.write_text(first + "<p>The Board of Directors of the Company approved it.</p>", encoding="utf-8")
    docs = load_documents([page])
    report = ingest_documents(store, docs)
    assert (report.documents, report.skipped) == (1, 2)
    [part3] = [ex for ex, _ in store.extractions() if ex.document.id == "8k#3"]
    assert {m.entity_id for m in part3.mentions if m.text == "Company"} == {"org:northwind-therapeutics"}
    assert store.entity("org:company") is None
    # an entity the first part makes when read again for context (gone from the store) is stored with the part
    other = SQLiteStore.open(tmp_path / "other.db")
    other.add_extraction(Extraction(docs[0].document), docs[0].sha256)  # stored, but without its entities
    assert ingest_documents(other, docs).documents == 2
    assert other.entity("org:northwind-therapeutics") is not None and other.entity("org:company") is None


def _long_filing_whose_first_part_changed(tmp_path, monkeypatch):
    """An 8-K read in three parts, stored, then its first part changed to define "the Company" as another firm: the
    file and the store."""
    import nlp.loaders
    from kg.stores.sqlite import SQLiteStore
    from nlp.ingest import ingest_documents

    monkeypatch.setattr(nlp.loaders, "MAX_CHARS", 100)
    page = tmp_path / "8k.htm"
    rest = ("<p>The Company expects the transaction to close in the second quarter.</p>"
            "<p>The Board of Directors of the Company approved it.</p>")
    page.write_text("<p>On March 11, 2024, Northwind Therapeutics, Inc. (the \u201cCompany\u201d) entered into an "
                    "agreement.</p>" + rest, encoding="utf-8")
    store = SQLiteStore.open(tmp_path / "g.db")
    ingest_documents(store, load_documents([page]))
    page.write_text("<p>On March 11, 2024, Corvane Pharmaceuticals, Inc. (the \u201cCompany\u201d) entered into an "
                    "agreement.</p>" + rest, encoding="utf-8")
    return page, store


def test_a_long_filing_whose_first_part_changed_stores_its_unchanged_later_parts_again(tmp_path, monkeypatch):
    from nlp.ingest import ingest_documents

    # the first part now defines "the Company" as another firm: the unchanged later parts were skipped and kept
    # linking "the Company" to the old one
    page, store = _long_filing_whose_first_part_changed(tmp_path, monkeypatch)
    report = ingest_documents(store, load_documents([page]))
    assert (report.documents, report.skipped, report.replaced) == (3, 0, ("8k#1",))
    linked = {ex.document.id: {m.entity_id for m in ex.mentions if m.text == "Company"}
              for ex, _ in store.extractions()}
    assert linked == {"8k#1": set(), "8k#2": {"org:corvane-pharmaceuticals"}, "8k#3": {"org:corvane-pharmaceuticals"}}
    assert store.entity("org:northwind-therapeutics") is None  # only the old text named it
    # nothing changed: nothing read again
    assert ingest_documents(store, load_documents([page])).skipped == 3


def test_a_long_filing_interrupted_after_its_changed_first_part_is_stored_is_completed_by_a_rerun(tmp_path, monkeypatch):
    from kg.stores.sqlite import SQLiteStore
    from nlp.ingest import ingest_documents

    # Ctrl-C once the changed first part is stored: it looks unchanged to the rerun, which then skipped the later
    # parts, left linking "the Company" to the old firm
    page, store = _long_filing_whose_first_part_changed(tmp_path, monkeypatch)
    real, calls = SQLiteStore.add_extraction, []

    def interrupted(self, extraction, content_hash):
        calls.append(extraction.document.id)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(self, extraction, content_hash)

    monkeypatch.setattr(SQLiteStore, "add_extraction", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest_documents(store, load_documents([page]))
    monkeypatch.setattr(SQLiteStore, "add_extraction", real)
    report = ingest_documents(store, load_documents([page]))
    assert (report.documents, report.skipped) == (2, 1)
    linked = {ex.document.id: {m.entity_id for m in ex.mentions if m.text == "Company"}
              for ex, _ in store.extractions()}
    assert linked == {"8k#1": set(), "8k#2": {"org:corvane-pharmaceuticals"}, "8k#3": {"org:corvane-pharmaceuticals"}}
    assert ingest_documents(store, load_documents([page])).skipped == 3
