"""An SEC filing's cover-page captions, table headers and page numbers are left out of its HTML text."""
from __future__ import annotations

from kg.records import Document
from nlp.loaders import load_documents
from nlp.form_captions import without_form_captions
from tests.nlp.test_extraction_rules import extractor  # noqa: F401 - the fixture

COVER = """<html><head><title>nwt-20240311</title></head><body>
<p>UNITED STATES<br>SECURITIES AND EXCHANGE COMMISSION<br>Washington, D.C. 20549</p><p>FORM 8-K</p>
<p>NORTHWIND THERAPEUTICS, INC.</p><p>(Exact name of registrant as specified in its charter)</p>
<table><tr><td>Delaware</td><td>001-38912</td><td>82-1234567</td></tr>
<tr><td>(State or other jurisdiction<br>of incorporation)</td><td><p>(Commission</p><p>File Number)</p></td>
<td>(I.R.S. Employer<br>Identification No.)</td></tr></table>
<table><tr><td>100 Summer Street, Boston, Massachusetts</td><td>02110</td></tr>
<tr><td>(Address of principal executive offices)</td><td>(Zip Code)</td></tr></table>
<p>Registrant&#8217;s telephone number, including area code: (617) 555-0100</p>
<table><tr><td>Title of each class</td><td>Trading Symbol(s)</td><td>Name of each exchange on which registered</td></tr>
<tr><td>Common Stock, $0.001 par value</td><td>NWT</td><td>The Nasdaq Global Market</td></tr></table>
<hr><p style="text-align:center">1</p><hr>
<p>Item 1.01 Entry into a Material Definitive Agreement.</p>
<p>Acme Robotics acquired Beta Sensors. (Dollar amounts in thousands) Page 2 of the agreement is attached.</p>
<table><tr><td>Exhibit No.</td><td>Description</td></tr><tr><td>99.1</td><td>Press release of Acme Robotics</td></tr>
</table><table><tr><th>Exhibit</th><th>Description of Exhibit</th></tr></table>
<p style="text-align:center">- 2 -</p><p>Page 3</p></body></html>"""


def test_a_filings_cover_captions_table_headers_and_page_numbers_are_left_out(tmp_path, extractor):  # noqa: F811
    # they became entities: 'Description' a person, 'IRS Employer' and 'Commission' organisations
    (tmp_path / "8k.htm").write_text(COVER, encoding="utf-8")
    [doc] = [d.document for d in load_documents([tmp_path / "8k.htm"])]
    assert doc.text.split("\n\n") == [
        "UNITED STATES", "SECURITIES AND EXCHANGE COMMISSION", "Washington, D.C. 20549", "FORM 8-K",
        "NORTHWIND THERAPEUTICS, INC.", "Delaware | 001-38912 | 82-1234567",
        "100 Summer Street, Boston, Massachusetts | 02110",
        "Common Stock, $0.001 par value | NWT | The Nasdaq Global Market",
        "Item 1.01 Entry into a Material Definitive Agreement.",
        "Acme Robotics acquired Beta Sensors. (Dollar amounts in thousands) Page 2 of the agreement is attached.",
        "99.1 | Press release of Acme Robotics"]
    [ex] = extractor.extract([Document(doc.id, doc.text)])
    names = {m.text for m in ex.mentions}
    assert not names & {"Description", "Registrant", "IRS Employer", "Commission"}, names
    assert {(t.head_id, t.relation, t.tail_id) for t in ex.triples} == {("org:acme", "ACQUIRED", "org:beta")}


PLAIN_8K = """<SEC-DOCUMENT>0001193125-24-012345.txt : 20240311
<SEC-HEADER>0001193125-24-012345.hdr.sgml : 20240311
</SEC-HEADER>
<DOCUMENT>
<TYPE>8-K
<TEXT>
                      SECURITIES AND EXCHANGE COMMISSION
                            Washington, D.C. 20549

                                   FORM 8-K

                         NORTHWIND THERAPEUTICS, INC.
            (Exact name of registrant as specified in its charter)

          Delaware                 001-38912              82-1234567
(State or other jurisdiction

of incorporation)

(Commission File Number)

Item 1.01 Entry into a Material Definitive Agreement.

Acme Robotics acquired Beta Sensors.

                                     - 2 -
"""


def test_a_plain_text_edgar_filing_is_read_without_its_captions_and_page_numbers(tmp_path):
    # EDGAR's .txt filings kept them (only HTML was read without): 'Commission' became an organisation
    for name, text in (("header.txt", PLAIN_8K), ("cover.txt", PLAIN_8K.split("<TEXT>\n", 1)[1])):
        (tmp_path / name).write_text(text, encoding="utf-8")
        [doc] = [d.document for d in load_documents([tmp_path / name])]
        assert "Commission File" not in doc.text and "(State" not in doc.text and "- 2 -" not in doc.text, name
        assert doc.text.endswith("Delaware                 001-38912              82-1234567\n\n"
                                 "Item 1.01 Entry into a Material Definitive Agreement.\n\n"
                                 "Acme Robotics acquired Beta Sensors."), doc.text
    # a plain text that is no filing keeps its words, a caption's too
    letter = "Our agent wrote (Commission File Number) on the form.\n\n2\n"
    (tmp_path / "letter.txt").write_text(letter, encoding="utf-8")
    [doc] = [d.document for d in load_documents([tmp_path / "letter.txt"])]
    assert doc.text == letter


def test_a_paragraph_that_is_only_a_number_stays_in_a_page_that_is_no_filing():
    """The page-number rule ran on every HTML page: a news page's "42" (a figure set on its own) was dropped."""
    page = "Answer to the question of life\n\n42\n\nThe number was chosen as a joke."
    assert without_form_captions(page) == page
    filing = "FORM 8-K\n\nCorvane AG\n\n(Commission File Number)\n\nCorvane acquired Meridale.\n\n- 2 -"
    assert without_form_captions(filing) == "FORM 8-K\n\nCorvane AG\n\nCorvane acquired Meridale."


PLAIN_COVER = """                      SECURITIES AND EXCHANGE COMMISSION
                                   FORM 10-K

                         NORTHWIND THERAPEUTICS, INC.
            (Exact name of registrant as specified in its charter)

          Delaware                      001-38912                 82-1234567
(State or other jurisdiction of   (Commission File Number)    (I.R.S. Employer
 incorporation or organization)                             Identification No.)

  100 Summer Street, Boston, Massachusetts                        02110
  (Address of principal executive offices)                      (Zip Code)

Acme Robotics acquired Beta Sensors.  Revenue was $12.1 million   (in thousands: 12,100).
"""


def test_a_plain_text_filings_captions_side_by_side_are_left_out(tmp_path, extractor):  # noqa: F811
    # read across the lines, two or three columns of captions interleave and none was found whole: '(State or other
    # jurisdiction of      (I.R.S. Employer' stayed, and 'I.R.S. Employer' became an organisation
    (tmp_path / "10k.txt").write_text(PLAIN_COVER, encoding="utf-8")
    [doc] = [d.document for d in load_documents([tmp_path / "10k.txt"])]
    assert doc.text.split("\n\n") == [
        "SECURITIES AND EXCHANGE COMMISSION\n                                   FORM 10-K",
        "NORTHWIND THERAPEUTICS, INC.",
        "Delaware                      001-38912                 82-1234567",  # the values stay, in their columns
        "100 Summer Street, Boston, Massachusetts                        02110",
        "Acme Robotics acquired Beta Sensors.  Revenue was $12.1 million   (in thousands: 12,100)."]
    [ex] = extractor.extract([Document(doc.id, doc.text)])
    assert not {m.text for m in ex.mentions} & {"I.R.S. Employer", "Commission", "State"}, ex.mentions
    # an HTML filing that is the plain text in a <pre> (as EDGAR's older ones are) is read without them too
    (tmp_path / "10k.htm").write_text(f"<html><body><pre>{PLAIN_COVER}</pre></body></html>", encoding="utf-8")
    [doc] = [d.document for d in load_documents([tmp_path / "10k.htm"])]
    assert "Employer" not in doc.text and "jurisdiction" not in doc.text, doc.text
    assert "Delaware 001-38912 82-1234567" in doc.text, doc.text
    # a text in columns without captions is no filing: its lone numbers stay
    assert without_form_captions("Revenue  (note 3)   12\n \n42") == "Revenue  (note 3)   12\n\n42"
