// The lskg web page. Every string that comes from the graph is put into the page with textContent or as a
// text node (never parsed as HTML), so a title or sentence holding markup stays text.
"use strict";

const STUDY_NS = "https://w3id.org/lskg/study/";
const CONCEPT_NS = "https://w3id.org/lskg/concept/";
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

async function getJSON(url, options = {}) {
  const response = await fetch(url, options);
  return readJSON(response);
}

// The recommender endpoints answer 503 + Retry-After while the one background training runs: wait and retry.
async function getTrained(url, statusId) {
  for (let attempt = 0; attempt < 300; attempt++) {
    const response = await fetch(url);
    if (response.status !== 503 || !response.headers.get("retry-after")) return readJSON(response);
    const body = await response.json().catch(() => ({}));
    if (!body.error || body.error.code !== "LSKG-E401") return readJSON(response);
    status(statusId, "Training the recommender for this graph…");
    await new Promise(resolve => setTimeout(resolve, 1000 * Number(response.headers.get("retry-after"))));
  }
  throw new Error("the recommender is still training; try again later");
}

async function readJSON(response) {
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const message = typeof body === "string" ? body : (body.error ? body.error.message + (body.error.hint ? " (" + body.error.hint + ")" : "") : JSON.stringify(body.detail || body));
    throw new Error(`${response.status}: ${message}`);
  }
  return body;
}

function status(id, text, isError = false) {
  const node = $(id);
  node.textContent = text;
  node.classList.toggle("error", isError);
}

// ---- SPARQL ----------------------------------------------------------------------------------------------

function termCell(term) {
  const td = el("td");
  if (!term) return td;
  if (term.type === "uri") {
    if (term.value.startsWith(STUDY_NS)) {
      const id = term.value.slice(STUDY_NS.length);
      td.append(el("a", {href: "#study-" + id, class: "study-link", text: "study " + id,
                         onclick: (e) => { e.preventDefault(); showStudy(id); }}));
    } else if (term.value.startsWith(CONCEPT_NS)) {
      const id = term.value.slice(CONCEPT_NS.length);
      td.append(el("a", {href: "/concepts/" + id, text: id}));
    } else {
      td.append(el("span", {class: "iri", text: term.value}));
    }
  } else {
    td.textContent = term.value;
  }
  return td;
}

function renderTable(table, columns, rows, cell) {
  const thead = table.querySelector("thead"), tbody = table.querySelector("tbody");
  thead.replaceChildren(el("tr", {}, ...columns.map((c) => el("th", {text: c}))));
  tbody.replaceChildren(...rows.map((row) => el("tr", {}, ...columns.map((c) => cell(row[c], c)))));
}

async function runQuery() {
  const query = $("query").value;
  status("query-status", "Running…");
  const started = performance.now();
  try {
    const response = await fetch("/sparql", {
      method: "POST",
      headers: {"Content-Type": "application/sparql-query",
                "Accept": "application/sparql-results+json, text/turtle;q=0.9"},
      body: query,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${response.status}: ${text}`);
    const ms = Math.round(performance.now() - started);
    if ((response.headers.get("content-type") || "").includes("turtle")) {
      renderTable($("results"), ["graph (Turtle)"], [{"graph (Turtle)": {type: "literal", value: text}}], termCell);
      status("query-status", `Graph result in ${ms} ms.`);
      return;
    }
    const data = JSON.parse(text);
    if ("boolean" in data) {
      renderTable($("results"), ["answer"], [{answer: {type: "literal", value: String(data.boolean)}}], termCell);
    } else {
      renderTable($("results"), data.head.vars, data.results.bindings, termCell);
    }
    const n = data.results ? data.results.bindings.length : 1;
    status("query-status", `${n} row${n === 1 ? "" : "s"} in ${ms} ms.`);
  } catch (err) {
    $("results").querySelector("tbody").replaceChildren();
    status("query-status", err.message, true);
  }
}

let checkTimer = null;
function scheduleCheck() {
  clearTimeout(checkTimer);
  checkTimer = setTimeout(async () => {
    try {
      const r = await getJSON("/sparql/check?q=" + encodeURIComponent($("query").value));
      status("check", r.ok ? `✓ valid ${r.form || ""} query` : "✗ " + r.message, !r.ok);
    } catch (err) {
      status("check", err.message, true);
    }
  }, 300);
}

// ---- studies and their evidence ---------------------------------------------------------------------------

async function showStudy(id) {
  try {
    const s = await getJSON("/studies/" + encodeURIComponent(id));
    $("study-title").textContent = s.title;
    $("study-meta").textContent = [s.authors.join("; "), s.year, s.venue, s.doi ? "doi:" + s.doi : ""]
      .filter(Boolean).join(" · ");
    $("study-abstract").textContent = s.abstract || "";
    const tbody = $("study-facts").querySelector("tbody");
    tbody.replaceChildren(...s.facts.map((f) => {
      const sentence = el("td", {class: "evidence"});
      const i = f.evidence.span ? f.evidence.sentence.indexOf(f.evidence.span) : -1;
      if (i >= 0) {
        sentence.append(f.evidence.sentence.slice(0, i), el("mark", {text: f.evidence.span}),
                        f.evidence.sentence.slice(i + f.evidence.span.length));
      } else {
        sentence.textContent = f.evidence.sentence;
      }
      return el("tr", {}, el("td", {text: f.facet || ""}),
                el("td", {}, el("a", {href: "/concepts/" + (f.concept.id || ""), text: f.concept.label})),
                el("td", {text: f.role}), el("td", {text: f.confidence.toFixed(2)}), sentence);
    }));
    $("study-panel").hidden = false;
    $("study-panel").scrollIntoView({behavior: "smooth"});
  } catch (err) {
    status("query-status", err.message, true);
  }
}

// ---- ask ---------------------------------------------------------------------------------------------------

async function ask() {
  status("ask-message", "Thinking…");
  try {
    const a = await getJSON("/ask?q=" + encodeURIComponent($("question").value));
    status("ask-message", a.message, !a.sparql);
    $("ask-sparql-box").hidden = !a.sparql;
    $("ask-sparql").textContent = a.sparql || "";
    renderTable($("ask-results"), a.columns, a.rows, (v) => {
      if (v && v.startsWith(STUDY_NS)) return termCell({type: "uri", value: v});
      if (v && v.startsWith(CONCEPT_NS)) return termCell({type: "uri", value: v});
      return el("td", {text: v === null || v === undefined ? "" : v});
    });
  } catch (err) {
    status("ask-message", err.message, true);
  }
}

// ---- recommend ---------------------------------------------------------------------------------------------

async function fillLabels() {
  try {
    const concepts = await getJSON("/concepts");
    for (const facet of ["data", "landslide_type", "task"]) {
      const list = $("labels-" + facet);
      list.replaceChildren(...concepts.items.filter((c) => c.facet === facet).map((c) => el("option", {value: c.label})));
    }
    const stats = await getJSON("/stats");
    $("stats").textContent = `${stats.studies} studies · ${stats.facts} facts · ${stats.triples} triples`;
  } catch (err) {
    $("stats").textContent = err.message;
  }
}

function rankedList(title, items) {
  const list = el("ol", {class: "ranked"});
  for (const item of items) {
    const support = el("ul", {class: "support"}, ...item.support.slice(0, 5).map((s) => {
      const id = s.iri.startsWith(STUDY_NS) ? s.iri.slice(STUDY_NS.length) : null;
      const label = `${s.title}${s.year ? " (" + s.year + ")" : ""}`;
      return el("li", {}, id ? el("a", {href: "#study-" + id, text: label, onclick: (e) => { e.preventDefault(); showStudy(id); }})
                              : label);
    }));
    const why = el("ul", {class: "why"}, ...item.paths.slice(0, 4).map((p) => el("li", {text: p})));
    const score = el("span", {class: "bar"});
    score.style.width = Math.max(2, Math.round(100 * Math.min(1, Math.max(0, item.score)))) + "px";
    list.append(el("li", {class: "recommendation"},
      el("strong", {text: item.label}), " ", score,
      el("span", {class: "muted", text: ` score ${item.score.toFixed(3)}` +
        (item.interval ? ` (90 % interval ${item.interval[0].toFixed(3)}–${item.interval[1].toFixed(3)})`
         : item.uncertainty !== null && item.uncertainty !== undefined ? ` ± ${item.uncertainty.toFixed(3)}` : "")}),
      why, support));
  }
  return el("div", {}, el("h3", {text: title}), list);
}

function evidenceOf(evidence) {
  // what the ranking rests on: the plain summary, then per part of the context the studies at the asked
  // concept, at narrower ones and at the nearest broader one (which), as the CLI prints them
  const parts = el("ul", {class: "evidence-parts"}, ...evidence.parts.map((p) => {
    const narrower = p.narrower ? ` (${p.narrower_concepts.join(", ")})` : "";
    const broader = p.broader ? ` (${p.broader_concepts.join(" / ")})` : "";
    return el("li", {text: `${p.label}: ${p.exact} studies at it, ${p.narrower} at a narrower concept${narrower}, ` +
                           `${p.broader} at a broader one${broader}`});
  }));
  return el("div", {class: "rec-evidence"}, el("p", {class: "evidence-summary", text: evidence.summary}), parts);
}

async function recommend(event) {
  event.preventDefault();
  const form = new FormData($("recommend-form"));
  const params = new URLSearchParams();
  for (const [k, v] of form.entries()) if (v.trim()) params.append(k, v.trim());
  if (![...params.keys()].length) {  // an empty form would get a generic ranking: say what is missing instead
    $("recommendations").replaceChildren();
    status("recommend-status", "Fill in at least one of data sources, landslide type or task "
                               + "(e.g. data: InSAR time series).", true);
    $("recommend-form").querySelector("input").focus();
    return;
  }
  status("recommend-status", "Ranking…");
  try {
    const r = await getTrained("/recommend?" + params.toString(), "recommend-status");
    status("recommend-status", `${r.recommender} (model ${r.model_version})`);
    $("recommendations").replaceChildren(evidenceOf(r.evidence),
                                         rankedList("Model families", r.families),
                                         rankedList("Architectures", r.architectures),
                                         el("p", {class: "muted", text: r.intervals}));
  } catch (err) {
    $("recommendations").replaceChildren();
    status("recommend-status", err.message, true);
  }
}

// ---- gap map -------------------------------------------------------------------------------------------

async function gaps(event) {
  if (event) event.preventDefault();
  const form = new FormData($("gaps-form"));
  const rows = form.get("rows"), cols = form.get("cols");
  if (rows === cols) { status("gaps-status", "choose two different facets", true); return; }
  status("gaps-status", "Scoring…");
  try {
    const g = await getTrained(`/gaps?facets=${rows}&facets=${cols}&top=500`, "gaps-status");
    drawGapMap(g, rows, cols);
    status("gaps-status", g.gaps.length
      ? `${g.gaps.length} combinations (model ${g.model_version}). Darker = larger gap.`
      : `No gap to show (model ${g.model_version}): every combination is studied, implausible, or rests on too ` +
        "few studies to judge (unknown).");
    const base = `/gaps/map?rows=${rows}&cols=${cols}&fmt=`;
    for (const fmt of ["svg", "png", "html", "json"]) $("gap-" + fmt).href = base + fmt;
    $("gap-links").hidden = false;
  } catch (err) {
    $("gapmap").replaceChildren();
    status("gaps-status", err.message, true);
  }
}

function drawGapMap(g, rows, cols) {
  const rowLabels = new Map(), colLabels = new Map(), cells = new Map();
  let max = 0;
  for (const gap of g.gaps) {
    const r = gap.concepts.find((c) => c.facet === rows), c = gap.concepts.find((x) => x.facet === cols);
    if (!r || !c) continue;
    rowLabels.set(r.iri, r.label); colLabels.set(c.iri, c.label);
    cells.set(r.iri + " " + c.iri, gap);
    max = Math.max(max, gap.gap_score);
  }
  const table = el("table", {class: "gapmap"});
  table.append(el("tr", {}, el("th"), ...[...colLabels.values()].map((l) => el("th", {class: "col", text: l}))));
  for (const [riri, rlabel] of rowLabels) {
    const tr = el("tr", {}, el("th", {text: rlabel}));
    for (const [ciri, clabel] of colLabels) {
      const gap = cells.get(riri + " " + ciri);
      const td = el("td", {class: "cell"});
      if (gap) {
        const t = max > 0 ? gap.gap_score / max : 0;
        td.style.background = `rgba(180, 40, 40, ${0.08 + 0.9 * t})`;
        td.textContent = String(gap.observed);
        const detail = `${rlabel} × ${clabel}: ${gap.observed} studies, plausibility ${gap.plausibility.toFixed(3)}, gap ${gap.gap_score.toFixed(3)}`;
        td.title = detail;
        td.addEventListener("mouseenter", () => {
          $("gap-detail").replaceChildren(el("strong", {text: `${rlabel} × ${clabel}`}),
            el("p", {text: `${gap.observed} studies · plausibility ${gap.plausibility.toFixed(3)} · gap score ${gap.gap_score.toFixed(3)}`}),
            el("ul", {}, ...gap.why.map((w) => el("li", {text: w}))));
        });
      }
      tr.append(td);
    }
    table.append(tr);
  }
  $("gapmap").replaceChildren(table);
}

// ---- wiring --------------------------------------------------------------------------------------------

document.querySelectorAll("button.example").forEach((b) =>
  b.addEventListener("click", () => { $("query").value = b.dataset.query; scheduleCheck(); runQuery(); }));
$("run").addEventListener("click", runQuery);
$("query").addEventListener("input", scheduleCheck);
$("query").addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) runQuery(); });
$("ask").addEventListener("click", ask);
$("question").addEventListener("keydown", (e) => { if (e.key === "Enter") ask(); });
$("ask-to-query").addEventListener("click", () => { $("query").value = $("ask-sparql").textContent; scheduleCheck(); $("query").scrollIntoView(); });
$("recommend-form").addEventListener("submit", recommend);
$("gaps-form").addEventListener("submit", gaps);
$("study-close").addEventListener("click", () => { $("study-panel").hidden = true; });
if (location.hash.startsWith("#study-")) showStudy(location.hash.slice(7));
scheduleCheck();
fillLabels();
