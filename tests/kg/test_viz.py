"""kg.viz: the page is self-contained, its data round-trips and is escaped, and it works in a real browser.

The browser tests drive Debian's chromium headless on a file:// URL (nothing is installed or fetched by
the tests). Without /usr/bin/chromium they skip locally and fail under CI=true.
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kg.errors import KGError
from kg.records import Entity, Provenance, Triple
from kg.stores.sqlite import SQLiteStore
from kg.viz import embed_json, render_graph_html, select_subgraph
from kg.viz.colors import NODE_COLORS

EVIL = "</script><script>document.documentElement.setAttribute('data-pwned','1')</script>"
EVIL_IMG = "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','2')\"> & <!-- Co"


def _prov(doc: str, sentence: str) -> tuple[Provenance, ...]:
    return (Provenance(doc, 0, len(sentence), sentence, "test"),)


def build_store(path: Path) -> SQLiteStore:
    """Eight entities of five types (plus one odd type), nine facts, two hostile names."""
    store = SQLiteStore.open(path)
    entities = [
        Entity("chem:aspirin", "Aspirin", "Chemical", ("acetylsalicylic acid",), (("mesh", "D001241"),)),
        Entity("dis:headache", "Headache", "Disease"),
        Entity("dis:reye", "Reye syndrome", "Disease"),
        Entity("org:bayer", "Bayer AG", "Organization"),
        Entity("loc:leverkusen", "Leverkusen", "Location"),
        Entity("per:anderson", "Bill Anderson", "Person"),
        Entity("org:monsanto", "Monsanto", "Organization"),
        Entity("gene:evil", EVIL, "Gene"),
        Entity("chem:evil", EVIL_IMG, "Chemical"),
        Entity("org:lonely", "Lonely Corp", "Organization"),
    ]
    triples = [
        Triple("chem:aspirin", "TREATS", "dis:headache", 0.9, _prov("doc1", "Aspirin treats headache.")),
        Triple("chem:aspirin", "CAUSES", "dis:reye", 0.7, _prov("doc2", "Aspirin can cause Reye syndrome.")),
        Triple("org:bayer", "MANUFACTURES", "chem:aspirin", 0.95, _prov("doc3", "Bayer AG manufactures aspirin.")),
        Triple("org:bayer", "HEADQUARTERED_IN", "loc:leverkusen", 1.0, _prov("doc3", "Bayer is based in Leverkusen.")),
        Triple("per:anderson", "CEO_OF", "org:bayer", 1.0, _prov("doc4", "Bill Anderson is the CEO of Bayer.")),
        Triple("org:bayer", "ACQUIRED", "org:monsanto", 1.0, _prov("doc5", "Bayer bought Monsanto </script> <b>x</b>.")),
        Triple("org:bayer", "PARTNERED_WITH", "org:monsanto", 0.5),
        Triple("gene:evil", "ASSOCIATED_WITH", "dis:reye", 0.5, _prov("doc6", "</script><!-- & -->")),
        Triple("chem:evil", "INTERACTS_WITH", "chem:aspirin", 0.5, _prov("doc7", "Evil interacts.")),
    ]
    store.add(triples, entities)
    return store


@pytest.fixture
def store(tmp_path: Path):
    s = build_store(tmp_path / "graph.db")
    yield s
    s.close()


def page_data(page: str) -> dict:
    """The JSON embedded in a page, read back the way the page's script reads it."""
    m = re.search(r'<script type="application/json" id="kg-data">(.*?)</script>', page, re.S)
    assert m, "no data element"
    return json.loads(m.group(1))


# ---- unit tests: selection, payload, escaping ------------------------------------------------
def test_subgraph_around_center_respects_hops(store):
    one = select_subgraph(store, ["per:anderson"], 1, 300)
    assert {e.id for e in one.entities} == {"per:anderson", "org:bayer"}
    two = select_subgraph(store, ["per:anderson"], 2, 300)
    assert {e.id for e in two.entities} == {"per:anderson", "org:bayer", "chem:aspirin", "loc:leverkusen",
                                            "org:monsanto"}
    assert all(t.head_id in {e.id for e in two.entities} and t.tail_id in {e.id for e in two.entities}
               for t in two.triples)


def test_subgraph_cap_keeps_centre_and_nearest_nodes(store):
    sub = select_subgraph(store, ["per:anderson"], 3, 3)
    ids = [e.id for e in sub.entities]
    assert ids[:2] == ["per:anderson", "org:bayer"] and len(ids) == 3
    assert sub.truncated and sub.total_entities > 3


def test_whole_graph_is_capped_by_degree_and_includes_isolated_entities_when_room(store):
    capped = select_subgraph(store, None, 1, 2)
    assert [e.id for e in capped.entities] == ["org:bayer", "chem:aspirin"]  # degree 5 and 4 win
    assert capped.truncated and capped.total_entities == 10
    everything = select_subgraph(store, None, 1, 300)
    assert "org:lonely" in {e.id for e in everything.entities}
    assert not everything.truncated and len(everything.triples) == 9


def test_unknown_centre_and_bad_limits_raise_kgerror(store):
    with pytest.raises(KGError, match="No entity with id 'nope'"):
        select_subgraph(store, ["nope"], 1, 10)
    with pytest.raises(KGError, match="--max-nodes"):
        select_subgraph(store, None, 1, 0)
    with pytest.raises(KGError, match="--hops"):
        select_subgraph(store, ["org:bayer"], 0, 10)


def test_page_is_self_contained(store, tmp_path):
    out = tmp_path / "g.html"
    render_graph_html(store, None, 1, out)
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", page, re.I)
    assert "<link" not in page and "<iframe" not in page
    assert "default-src 'none'" in page  # the CSP forbids any load even if something slipped in
    assert page.count("<script") == 3  # error recorder, data, program: all inline


def test_embedded_data_round_trips(store, tmp_path):
    out = tmp_path / "g.html"
    report = render_graph_html(store, ["org:bayer"], 1, out)
    data = page_data(out.read_text(encoding="utf-8"))
    names = {n["name"] for n in data["nodes"]}
    assert names == {"Bayer AG", "Aspirin", "Leverkusen", "Bill Anderson", "Monsanto"}
    assert (report.nodes, report.edges) == (len(data["nodes"]), len(data["edges"])) == (5, 5)
    by_rel = {e["rel"]: e for e in data["edges"]}
    acquired = by_rel["ACQUIRED"]
    assert data["nodes"][acquired["s"]]["id"] == "org:bayer" and data["nodes"][acquired["t"]]["id"] == "org:monsanto"
    assert acquired["sources"] == [["doc5", "Bayer bought Monsanto </script> <b>x</b>.", "test"]]
    bayer = next(n for n in data["nodes"] if n["id"] == "org:bayer")
    assert bayer["center"] and bayer["color"] == NODE_COLORS["Organization"]
    assert data["meta"]["title"] == "Bayer AG: 1-hop neighbourhood"


def test_hostile_names_cannot_end_the_data_element(store, tmp_path):
    out = tmp_path / "g.html"
    render_graph_html(store, None, 1, out)
    page = out.read_text(encoding="utf-8")
    body = page.split('id="kg-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in body and ">" not in body and "&" not in body
    data = json.loads(body)
    assert {EVIL, EVIL_IMG} <= {n["name"] for n in data["nodes"]}
    assert json.loads(embed_json({"x": "</script>\u2028<!--&"})) == {"x": "</script>\u2028<!--&"}


def test_title_with_markup_is_escaped(store, tmp_path):
    out = tmp_path / "g.html"
    render_graph_html(store, ["gene:evil"], 1, out)
    page = out.read_text(encoding="utf-8")
    assert f"<title>{html.escape(EVIL)}: 1-hop neighbourhood</title>" in page
    assert page.count("<script") == 3


def test_truncation_is_said_in_the_page(store, tmp_path):
    report = render_graph_html(store, None, 1, tmp_path / "g.html", max_nodes=2)
    assert report.truncated and "Showing the 2 best-connected of 10 entities" in report.note
    assert page_data((tmp_path / "g.html").read_text(encoding="utf-8"))["meta"]["note"] == report.note


def test_out_folder_is_refused(store, tmp_path):
    with pytest.raises(KGError, match="is a folder"):
        render_graph_html(store, None, 1, tmp_path)


# ---- the real browser ------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]


@pytest.fixture
def chromium(tmp_path):
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        msg = f"{CHROMIUM} not found: install Debian's browser with `apt-get install -y chromium`."
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(msg)
        pytest.skip(msg)

    def run(url: str, *args: str) -> tuple[str, str]:
        profile = tmp_path / f"profile{len(list(tmp_path.glob('profile*')))}"
        proc = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, url],
                              capture_output=True, text=True, timeout=90)
        shutil.rmtree(profile, ignore_errors=True)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout, proc.stderr

    return run


class _Rendered(HTMLParser):
    """Collects the text of SVG node labels/titles, the panel and the legend, and the root's attributes."""

    VOID = {"meta", "input", "br", "img", "link", "hr", "source", "wbr", "area", "base", "col", "embed"}

    def __init__(self) -> None:
        super().__init__()
        self.root: dict[str, str | None] = {}
        self.open: list[tuple[str, str | None]] = []  # (tag, which text bucket it starts)
        self.text: dict[str, list[str]] = {"node-label": [], "title": [], "panel": [], "legend": []}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.root = a
        if tag in self.VOID:
            return
        classes = (a.get("class") or "").split()
        if "node-label" in classes:
            key = "node-label"
        elif tag == "title" and self.open and self.open[-1][0] == "g":
            key = "title"
        elif a.get("id") in ("panel", "legend"):
            key = a["id"]
        else:
            key = None
        self.open.append((tag, key))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.open:
            self.open.pop()

    def handle_data(self, data):
        for _, key in reversed(self.open):
            if key:
                self.text[key].append(data)
                break


def rendered(dom: str) -> _Rendered:
    parser = _Rendered()
    parser.feed(dom)
    return parser


def assert_clean_console(stderr: str) -> None:
    console = [line for line in stderr.splitlines() if ":CONSOLE" in line]
    assert not console, "browser console: " + " / ".join(console)


def test_browser_loads_page_without_errors_and_draws_nodes(store, tmp_path, chromium):
    out = tmp_path / "graph.html"
    render_graph_html(store, None, 1, out)
    dom, err = chromium(out.as_uri(), "--dump-dom")
    assert_clean_console(err)
    page = rendered(dom)
    assert page.root.get("data-status") == "ok", page.root.get("data-errors")
    assert page.root.get("data-errors") is None and page.root.get("data-pwned") is None
    assert page.root.get("data-nodes") == "10" and page.root.get("data-edges") == "9"
    labels = set(page.text["node-label"])
    assert {"Aspirin", "Bayer AG", "Bill Anderson", "Headache", "Leverkusen", "Lonely Corp"} <= labels
    titles = "".join(page.text["title"])
    assert f"{EVIL} (Gene)" in titles and f"{EVIL_IMG} (Chemical)" in titles  # shown as text, not run
    assert "Organization (3)" in "".join(page.text["legend"])
    assert dom.count("<script") == 3  # no element was injected by a name


def test_browser_side_panel_shows_facts_with_sources(store, tmp_path, chromium):
    out = tmp_path / "graph.html"
    render_graph_html(store, ["org:bayer"], 2, out)
    dom, err = chromium(out.as_uri() + "#node=org:bayer", "--dump-dom")
    assert_clean_console(err)
    page = rendered(dom)
    assert page.root.get("data-status") == "ok", page.root.get("data-errors")
    assert page.root.get("data-selected") == "org:bayer"
    panel = " ".join("".join(page.text["panel"]).split())
    assert "Facts (5)" in panel
    assert "doc4: Bill Anderson is the CEO of Bayer." in panel
    assert "Bayer bought Monsanto </script> <b>x</b>." in panel
    assert "no sentence" in panel or "no recorded source" in panel  # PARTNERED_WITH has no source


def test_browser_harness_detects_a_broken_page(store, tmp_path, chromium):
    """The status check is worth something only if a script error flips it."""
    out = tmp_path / "graph.html"
    render_graph_html(store, None, 1, out)
    page = out.read_text(encoding="utf-8").replace("</body>", "<script>noSuchFunction();</script></body>")
    out.write_text(page, encoding="utf-8")
    dom, err = chromium(out.as_uri(), "--dump-dom")
    root = rendered(dom).root
    assert root.get("data-status") == "error" and "noSuchFunction" in (root.get("data-errors") or "")
    assert any(":CONSOLE" in line and "noSuchFunction" in line for line in err.splitlines())


def read_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """A tiny PNG decoder (8-bit RGB/RGBA, no interlace): width, height, unfiltered rows, bytes per pixel."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    assert header is not None
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    prev, rows = bytearray(stride), []
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif kind == 3:
            for i in range(stride):
                line[i] = (line[i] + (((line[i - bpp] if i >= bpp else 0) + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a, b, c = (line[i - bpp] if i >= bpp else 0), prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, rows, bpp


def test_browser_screenshot_shows_coloured_nodes(store, tmp_path, chromium):
    out, shot = tmp_path / "graph.html", tmp_path / "graph.png"
    render_graph_html(store, None, 1, out)
    _, err = chromium(out.as_uri(), f"--screenshot={shot}", "--window-size=1200,800", "--hide-scrollbars")
    assert_clean_console(err)
    assert shot.exists() and shot.stat().st_size > 10_000
    width, height, rows, bpp = read_png(shot.read_bytes())
    assert (width, height) == (1200, 800)
    pixels = Counter(row[x:x + 3] for row in rows[::3] for x in range(0, width * bpp, 3 * bpp))
    assert len(pixels) > 50, "screenshot is (nearly) blank"
    assert pixels.most_common(1)[0][1] < 0.97 * sum(pixels.values())
    seen = {bytes.fromhex(NODE_COLORS[t][1:]) for t in ("Chemical", "Disease", "Organization", "Person", "Location")}
    assert seen <= set(pixels), f"node colours missing: {[c.hex() for c in seen - set(pixels)]}"
