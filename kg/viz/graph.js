// kgnlp viz: a small force-directed graph on SVG. No libraries, no network.
// Data comes from the JSON element written by kg/viz/page.py; every text goes in through
// textContent (never innerHTML), so names and sentences cannot inject markup.
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var root = document.documentElement;
  var data = JSON.parse(document.getElementById("kg-data").textContent);
  var nodes = data.nodes, edges = data.edges, meta = data.meta;
  var svg = document.getElementById("graph");
  var viewport = document.getElementById("viewport");
  var view = { x: 0, y: 0, k: 1 };
  var selected = null;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var key in attrs || {}) e.setAttribute(key, attrs[key]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function sel(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    for (var key in attrs || {}) e.setAttribute(key, attrs[key]);
    return e;
  }
  function clip(s, n) { return s.length > n ? s.slice(0, n - 1) + "\u2026" : s; }

  // ---- header, note, legend --------------------------------------------------------------
  document.getElementById("counts").textContent =
    nodes.length + " nodes \u00b7 " + edges.length + " edges";
  if (meta.note) {
    var note = document.getElementById("note");
    note.textContent = meta.note;
    note.hidden = false;
  }
  var legend = document.getElementById("legend");
  data.legend.forEach(function (g) {
    var li = el("li", { "data-type": g.type });
    li.appendChild(el("span", { "class": "swatch", style: "background:" + g.color }));
    li.appendChild(document.createTextNode(g.type + " (" + g.count + ")"));
    legend.appendChild(li);
  });
  if (!data.legend.length) legend.hidden = true;
  var names = document.getElementById("names");
  nodes.forEach(function (n) { names.appendChild(el("option", { value: n.name })); });

  // ---- graph structure -------------------------------------------------------------------
  nodes.forEach(function (n, i) {
    n.index = i; n.vx = 0; n.vy = 0; n.links = [];
    n.r = 6 + Math.min(10, 2 * Math.sqrt(n.degree)) + (n.center ? 3 : 0);
    // Phyllotaxis start: spread, deterministic, so screenshots are reproducible.
    var rad = 12 * Math.sqrt(0.5 + i), a = i * Math.PI * (3 - Math.sqrt(5));
    n.x = rad * Math.cos(a); n.y = rad * Math.sin(a);
  });
  var pairs = {};
  edges.forEach(function (e, i) {
    e.index = i; e.source = nodes[e.s]; e.target = nodes[e.t];
    e.source.links.push(e);
    if (e.s !== e.t) e.target.links.push(e);
    var key = Math.min(e.s, e.t) + ":" + Math.max(e.s, e.t);
    (pairs[key] = pairs[key] || []).push(e);
  });
  // Several facts between the same two nodes: bend them apart so every label stays readable.
  Object.keys(pairs).forEach(function (key) {
    var group = pairs[key];
    group.forEach(function (e, k) {
      var off = (k - (group.length - 1) / 2) * 28;
      e.bend = e.s <= e.t ? off : -off;
    });
  });

  // ---- force simulation (after d3-force: many-body, link springs, gentle gravity) ----------
  var alpha = 1, alphaMin = 0.002, alphaTarget = 0, decay = 0.6;
  var LINK = 100, CHARGE = -420, GRAVITY = 0.03, MAXDIST2 = 900 * 900;
  function tick() {
    var i, j, a, b, dx, dy, d2, f, l;
    for (i = 0; i < nodes.length; i++) {
      a = nodes[i];
      for (j = i + 1; j < nodes.length; j++) {
        b = nodes[j];
        dx = b.x - a.x; dy = b.y - a.y; d2 = dx * dx + dy * dy;
        if (d2 > MAXDIST2) continue;
        if (d2 < 1) { dx = (i % 7) - 3 + 0.5; dy = (j % 5) - 2 + 0.5; d2 = dx * dx + dy * dy; }
        f = CHARGE * alpha / d2;
        a.vx += dx * f; a.vy += dy * f; b.vx -= dx * f; b.vy -= dy * f;
      }
    }
    for (i = 0; i < edges.length; i++) {
      var e = edges[i];
      a = e.source; b = e.target;
      if (a === b) continue;
      dx = b.x + b.vx - a.x - a.vx; dy = b.y + b.vy - a.y - a.vy;
      l = Math.sqrt(dx * dx + dy * dy) || 1;
      var da = a.links.length, db = b.links.length;
      l = (l - LINK) / l * alpha / Math.min(da, db);
      var bias = da / (da + db);
      b.vx -= dx * l * bias; b.vy -= dy * l * bias;
      a.vx += dx * l * (1 - bias); a.vy += dy * l * (1 - bias);
    }
    for (i = 0; i < nodes.length; i++) {
      a = nodes[i];
      a.vx -= a.x * GRAVITY * alpha; a.vy -= a.y * GRAVITY * alpha;
      if (a.fx !== undefined) { a.x = a.fx; a.y = a.fy; a.vx = a.vy = 0; continue; }
      a.vx *= decay; a.vy *= decay;
      a.x += a.vx; a.y += a.vy;
    }
  }
  // Settle before the first paint, with a work budget so big graphs still open fast.
  var n2 = Math.max(1, nodes.length * nodes.length);
  var warm = Math.max(30, Math.min(300, Math.floor(3e7 / n2)));
  var alphaDecay = 1 - Math.pow(alphaMin, 1 / warm);
  for (var t = 0; t < warm; t++) { tick(); alpha += (alphaTarget - alpha) * alphaDecay; }

  var running = false;
  function reheat(target) {
    alphaTarget = target; alpha = Math.max(alpha, 0.3);
    if (!running) { running = true; window.requestAnimationFrame(frame); }
  }
  function frame() {
    tick();
    alpha += (alphaTarget - alpha) * alphaDecay;
    draw();
    if (alpha > alphaMin || alphaTarget > 0) window.requestAnimationFrame(frame);
    else running = false;
  }

  // ---- SVG elements --------------------------------------------------------------------
  var edgeLayer = document.getElementById("edges");
  var labelLayer = document.getElementById("edge-labels-layer");
  var nodeLayer = document.getElementById("nodes");
  var minorCut = nodes.length > 120 ? nodes.map(function (n) { return n.degree; })
    .sort(function (p, q) { return q - p; })[59] : -1;
  edges.forEach(function (e) {
    e.path = sel("path", { "class": "edge", "marker-end": "url(#arrow)", "data-rel": e.rel });
    edgeLayer.appendChild(e.path);
    e.label = sel("text", { "class": "edge-label" });
    e.label.textContent = e.rel;
    labelLayer.appendChild(e.label);
  });
  nodes.forEach(function (n) {
    var g = sel("g", { "class": "node" + (n.center ? " center" : ""), "data-id": n.id, "data-type": n.group });
    var c = sel("circle", { r: n.r, fill: n.color });
    var title = sel("title");
    title.textContent = n.name + " (" + n.type + ")";
    var label = sel("text", { "class": "node-label" + (n.degree <= minorCut && !n.center ? " minor" : ""),
      x: n.r + 3, y: 4 });
    label.textContent = clip(n.name, 32);
    g.appendChild(c); g.appendChild(title); g.appendChild(label);
    g.__node = n;
    n.g = g;
    nodeLayer.appendChild(g);
  });

  function edgeGeometry(e) {
    var a = e.source, b = e.target;
    if (a === b) {  // a fact about itself: a small loop above the node
      var r = a.r;
      return { d: "M" + (a.x - r * 0.5) + "," + (a.y - r) + " C" + (a.x - 30) + "," + (a.y - r - 45) + " " +
        (a.x + 30) + "," + (a.y - r - 45) + " " + (a.x + r * 0.5) + "," + (a.y - r - 2),
        lx: a.x, ly: a.y - r - 36 };
    }
    var dx = b.x - a.x, dy = b.y - a.y, len = Math.sqrt(dx * dx + dy * dy) || 1;
    var mx = (a.x + b.x) / 2, my = (a.y + b.y) / 2;
    var cx = mx - dy / len * e.bend * 2, cy = my + dx / len * e.bend * 2;
    var sx = cx - a.x, sy = cy - a.y, sl = Math.sqrt(sx * sx + sy * sy) || 1;
    var tx = b.x - cx, ty = b.y - cy, tl = Math.sqrt(tx * tx + ty * ty) || 1;
    var x1 = a.x + sx / sl * a.r, y1 = a.y + sy / sl * a.r;
    var x2 = b.x - tx / tl * (b.r + 2), y2 = b.y - ty / tl * (b.r + 2);
    return { d: "M" + x1 + "," + y1 + " Q" + cx + "," + cy + " " + x2 + "," + y2,
      lx: 0.25 * a.x + 0.5 * cx + 0.25 * b.x, ly: 0.25 * a.y + 0.5 * cy + 0.25 * b.y - 3 };
  }
  function draw() {
    edges.forEach(function (e) {
      var geo = edgeGeometry(e);
      e.path.setAttribute("d", geo.d);
      e.label.setAttribute("x", geo.lx.toFixed(1));
      e.label.setAttribute("y", geo.ly.toFixed(1));
    });
    nodes.forEach(function (n) {
      n.g.setAttribute("transform", "translate(" + n.x.toFixed(1) + "," + n.y.toFixed(1) + ")");
    });
  }
  function applyView() {
    viewport.setAttribute("transform", "translate(" + view.x + "," + view.y + ") scale(" + view.k + ")");
    // Big graphs: only the best-connected names until the reader zooms in.
    svg.classList.toggle("zoomed-out", view.k < (nodes.length > 120 ? 1.2 : 0.55));
  }
  function visibleWidth() {
    var box = svg.getBoundingClientRect(), panel = document.getElementById("panel");
    return (box.width || 1200) - (panel.hidden ? 0 : panel.getBoundingClientRect().width);
  }
  function fit() {
    var box = svg.getBoundingClientRect(), w = visibleWidth(), h = box.height || 700;
    if (!nodes.length) { view = { x: w / 2, y: h / 2, k: 1 }; applyView(); return; }
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    nodes.forEach(function (n) {
      x0 = Math.min(x0, n.x - n.r); y0 = Math.min(y0, n.y - n.r);
      x1 = Math.max(x1, n.x + n.r + 90); y1 = Math.max(y1, n.y + n.r);
    });
    var k = Math.min(1.4, 0.92 * Math.min(w / (x1 - x0 + 40), h / (y1 - y0 + 40)));
    view = { k: k, x: w / 2 - k * (x0 + x1) / 2, y: h / 2 - k * (y0 + y1) / 2 };
    applyView();
  }
  function centerOn(n) {
    var box = svg.getBoundingClientRect(), w = visibleWidth();
    view.k = Math.max(view.k, 1);
    view.x = w / 2 - view.k * n.x; view.y = (box.height || 700) / 2 - view.k * n.y;
    applyView();
  }

  // ---- side panel ----------------------------------------------------------------------
  function factItem(e) {
    var li = el("li", { "class": "fact" });
    function nodeRef(n) {
      if (n === selected) return el("strong", {}, n.name);
      var b = el("button", { "class": "goto", type: "button" }, n.name);
      b.addEventListener("click", function () { select(n); centerOn(n); });
      return b;
    }
    li.appendChild(nodeRef(e.source));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(el("span", { "class": "rel" }, e.rel));
    li.appendChild(document.createTextNode(" "));
    li.appendChild(nodeRef(e.target));
    li.appendChild(el("span", { "class": "muted" }, "  conf " + e.conf));
    var ul = el("ul", { "class": "sources" });
    e.sources.forEach(function (s) {
      var item = el("li", { "class": "source" });
      item.appendChild(el("span", { "class": "doc" }, s[0]));
      item.appendChild(document.createTextNode(": "));
      item.appendChild(s[1] ? el("span", { "class": "sentence" }, s[1])
        : el("span", { "class": "muted" }, "no sentence (" + (s[2] || "imported") + ")"));
      ul.appendChild(item);
    });
    if (e.more) ul.appendChild(el("li", { "class": "muted" }, "\u2026 and " + e.more + " more sources"));
    if (!e.sources.length) ul.appendChild(el("li", { "class": "muted" }, "no recorded source"));
    li.appendChild(ul);
    return li;
  }
  function showPanel(n) {
    var body = document.getElementById("panel-body");
    body.textContent = "";
    body.appendChild(el("h2", {}, n.name));
    var chip = el("span", { "class": "chip", style: "background:" + n.color }, n.type);
    body.appendChild(chip);
    body.appendChild(document.createTextNode(" "));
    body.appendChild(el("span", { "class": "ent-id" }, n.id));
    if (n.aliases.length) body.appendChild(el("p", {}, "Also: " + n.aliases.join(", ")));
    if (n.ext.length) {
      body.appendChild(el("p", { "class": "ent-id" }, n.ext.map(function (p) { return p[0] + ": " + p[1]; }).join(" \u00b7 ")));
    }
    body.appendChild(el("h3", {}, "Facts (" + n.links.length + ")"));
    var ul = el("ul", { "class": "facts" });
    n.links.slice().sort(function (p, q) { return p.rel < q.rel ? -1 : p.rel > q.rel ? 1 : q.conf - p.conf; })
      .forEach(function (e) { ul.appendChild(factItem(e)); });
    body.appendChild(ul);
    document.getElementById("panel").hidden = false;
  }
  function select(n) {
    if (selected) selected.g.classList.remove("selected");
    Array.prototype.forEach.call(svg.querySelectorAll(".hl"), function (x) { x.classList.remove("hl"); });
    selected = n;
    if (!n) {
      svg.classList.remove("focus");
      document.getElementById("panel").hidden = true;
      root.removeAttribute("data-selected");
      return;
    }
    n.g.classList.add("selected", "hl");
    n.links.forEach(function (e) {
      e.path.classList.add("hl"); e.label.classList.add("hl");
      e.source.g.classList.add("hl"); e.target.g.classList.add("hl");
    });
    svg.classList.add("focus");
    root.setAttribute("data-selected", n.id);
    showPanel(n);
  }
  document.getElementById("panel-close").addEventListener("click", function () { select(null); });

  // ---- search --------------------------------------------------------------------------
  function norm(s) { return String(s).toLowerCase().replace(/\s+/g, " ").trim(); }
  function findNodes(q) {
    q = norm(q);
    if (!q) return [];
    var exact = [], prefix = [], part = [];
    nodes.forEach(function (n) {
      var all = [n.name, n.id].concat(n.aliases).map(norm);
      if (all.indexOf(q) >= 0) exact.push(n);
      else if (all.some(function (s) { return s.indexOf(q) === 0; })) prefix.push(n);
      else if (all.some(function (s) { return s.indexOf(q) >= 0; })) part.push(n);
    });
    return exact.concat(prefix, part);
  }
  var search = document.getElementById("search"), searchMsg = document.getElementById("search-msg");
  function runSearch(q) {
    var hits = findNodes(q);
    if (!hits.length) { searchMsg.textContent = "No node matches \u201c" + q + "\u201d"; return false; }
    searchMsg.textContent = hits.length > 1 ? hits.length + " matches" : "";
    select(hits[0]); centerOn(hits[0]);
    return true;
  }
  search.addEventListener("input", function () {
    var hits = search.value.length >= 2 ? findNodes(search.value) : [];
    nodes.forEach(function (n) { n.g.classList.toggle("match", hits.indexOf(n) >= 0); });
    searchMsg.textContent = "";
  });
  document.getElementById("search-form").addEventListener("submit", function (ev) {
    ev.preventDefault(); runSearch(search.value);
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "/" && document.activeElement !== search) { ev.preventDefault(); search.focus(); }
    else if (ev.key === "Escape") { search.value = ""; search.dispatchEvent(new Event("input")); select(null); }
  });

  // ---- pan, zoom, drag, click ------------------------------------------------------------
  var drag = null;
  function toGraph(ev) {
    var box = svg.getBoundingClientRect();
    return { x: (ev.clientX - box.left - view.x) / view.k, y: (ev.clientY - box.top - view.y) / view.k };
  }
  svg.addEventListener("pointerdown", function (ev) {
    var g = ev.target.closest ? ev.target.closest(".node") : null;
    drag = { node: g ? g.__node : null, x0: ev.clientX, y0: ev.clientY, vx: view.x, vy: view.y, moved: false };
    if (!drag.node) svg.classList.add("panning");
  });
  window.addEventListener("pointermove", function (ev) {
    if (!drag) return;
    if (Math.abs(ev.clientX - drag.x0) + Math.abs(ev.clientY - drag.y0) > 4) drag.moved = true;
    if (!drag.moved) return;
    if (drag.node) {
      var p = toGraph(ev);
      drag.node.fx = p.x; drag.node.fy = p.y;
      reheat(0.3);
    } else {
      view.x = drag.vx + ev.clientX - drag.x0; view.y = drag.vy + ev.clientY - drag.y0;
      applyView();
    }
  });
  function endDrag() {
    if (!drag) return;
    if (!drag.moved) select(drag.node);  // a click: a node opens its facts, the background closes them
    // A dragged node stays where it was put; double-click frees it.
    alphaTarget = 0;
    svg.classList.remove("panning");
    drag = null;
  }
  window.addEventListener("pointerup", endDrag);
  window.addEventListener("pointercancel", endDrag);
  svg.addEventListener("dblclick", function (ev) {
    var g = ev.target.closest ? ev.target.closest(".node") : null;
    if (g) { delete g.__node.fx; delete g.__node.fy; reheat(0); }
  });
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var box = svg.getBoundingClientRect(), mx = ev.clientX - box.left, my = ev.clientY - box.top;
    var k = Math.max(0.05, Math.min(8, view.k * Math.exp(-ev.deltaY * 0.0015)));
    view.x = mx - (mx - view.x) * k / view.k; view.y = my - (my - view.y) * k / view.k; view.k = k;
    applyView();
  }, { passive: false });
  document.getElementById("fit").addEventListener("click", fit);
  var edgeToggle = document.getElementById("edge-labels");
  edgeToggle.checked = edges.length <= 400;
  function applyEdgeToggle() { svg.classList.toggle("hide-edge-labels", !edgeToggle.checked); }
  edgeToggle.addEventListener("change", applyEdgeToggle);
  window.addEventListener("resize", fit);

  // ---- first paint; #node=ID or #search=TEXT in the URL opens a node ---------------------
  draw();
  applyEdgeToggle();
  fit();
  var hash = decodeURIComponent(window.location.hash.slice(1));
  if (hash.indexOf("node=") === 0) {
    var wanted = hash.slice(5), hit = nodes.filter(function (n) { return n.id === wanted; })[0];
    if (hit) { select(hit); fit(); } else searchMsg.textContent = "No node with id \u201c" + wanted + "\u201d";
  } else if (hash.indexOf("search=") === 0) {
    search.value = hash.slice(7);
    if (runSearch(search.value)) fit();
  }
  root.setAttribute("data-nodes", String(nodes.length));
  root.setAttribute("data-edges", String(edges.length));
  if (!root.hasAttribute("data-errors")) root.setAttribute("data-status", "ok");
})();
