"""A fuzzer of SERVICE and LOAD spellings (hypothesis): prefixes (the empty one included), letter case, ``\\u``
escapes, comments, whitespace and punctuation before the keyword, in queries and updates, sent to ``/sparql``
(GET and POST), ``/sparql/check`` and the update path. None may succeed, and the loopback canary must hear
nothing."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import LiveServer
from tests.security.conftest import AUTH, Canary

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

SPACE = st.sampled_from(["", " ", "\t", "\n", "  \r\n ", " # a comment\n", "#x\n\t"])
GAP = st.sampled_from([" ", "\t", "\n", " # SERVICE in a comment\n", "\r\n"])  # where a separator is required


@st.composite
def keyword(draw: st.DrawFn, word: str) -> str:
    """``word`` in mixed case; in one keyword of five, some letters written as \\uXXXX escapes (SPARQL 1.1 says
    they are decoded before parsing; pyoxigraph reads them as a syntax error, rdflib decodes them)."""
    forms = ["upper", "lower", "escape"] if draw(st.integers(0, 4)) == 0 else ["upper", "lower"]
    letters = []
    for letter in word:
        form = draw(st.sampled_from(forms))
        if form == "escape":
            code = ord(draw(st.sampled_from([letter.upper(), letter.lower()])))
            letters.append(draw(st.sampled_from([f"\\u{code:04X}", f"\\u{code:04x}", f"\\U{code:08X}"])))
        else:
            letters.append(letter.upper() if form == "upper" else letter.lower())
    return "".join(letters)


@st.composite
def target(draw: st.DrawFn, url: str) -> tuple[str, str]:
    """(prologue, IRI reference) naming the canary: an IRI, the empty prefix or a named prefix."""
    kind = draw(st.sampled_from(["iri", "empty", "named"]))
    if kind == "iri":
        return "", f"<{url}{draw(st.sampled_from(['', 'sparql', 'x.ttl']))}>"
    name = "" if kind == "empty" else draw(st.sampled_from(["p", "ex", "SERVICE", "load"]))
    prologue = f"{draw(keyword('PREFIX'))} {name}: <{url}>{draw(SPACE)}"
    return prologue, f"{name}:{draw(st.sampled_from(['k', 'l', 'x', '']))}"


@st.composite
def service_query(draw: st.DrawFn, url: str) -> str:
    prologue, ref = draw(target(url))
    before = draw(st.sampled_from(["", "?s ?p ?o .", "?s ?p ?o", "?s ?p ?o .\n", "{ ?s ?p ?o } ", "{ ?s ?p ?o } .",
                                   "?s ?p ?o FILTER(1) ."]))
    silent = draw(st.sampled_from(["", f"{draw(keyword('SILENT'))} "]))
    after = draw(SPACE) if not ref.startswith(("<", ":")) or silent else draw(st.sampled_from(["", " ", "\n"]))
    if ref[0] not in "<:" and not after:
        after = " "
    pattern = f"{before}{draw(SPACE)}{draw(keyword('SERVICE'))}{draw(GAP)}{silent}{ref}{after}{{ ?s ?p ?o }}"
    wrapper = draw(st.sampled_from(["{}", "OPTIONAL {{ {} }}", "{{ ?a ?b ?c }} UNION {{ {} }}",
                                    "FILTER EXISTS {{ {} }}", "{{ SELECT * WHERE {{ {} }} }}", "MINUS {{ {} }}"]))
    return f"{prologue}SELECT * WHERE {{ {wrapper.format(pattern)} }}"


@st.composite
def load_update(draw: st.DrawFn, url: str) -> str:
    prologue, ref = draw(target(url))
    head = draw(st.sampled_from(["", "CLEAR ALL ;", "CLEAR ALL;", "DROP SILENT GRAPH <http://example.org/none> ;\n",
                                 "INSERT DATA { <http://example.org/a> <http://example.org/b> 1 } ;"]))
    silent = draw(st.sampled_from(["", f"{draw(keyword('SILENT'))} "]))
    gap = draw(GAP) if silent or not ref.startswith(("<", ":")) else draw(st.sampled_from(["", " ", "\n"]))
    into = draw(st.sampled_from(["", " INTO GRAPH <http://example.org/g>"]))
    return f"{prologue}{head}{draw(SPACE)}{draw(keyword('LOAD'))}{gap}{silent}{ref}{into}"


@st.composite
def service_update(draw: st.DrawFn, url: str) -> str:
    query = draw(service_query(url))
    prologue, _, where = query.partition("SELECT * WHERE ")
    return f"{prologue}INSERT {{ GRAPH <http://example.org/g> {{ ?s ?p ?o }} }} WHERE {where}"


@pytest.fixture(scope="module")
def canary_url(canary: Canary) -> str:
    return canary.url


def test_fuzzed_service_queries(ro_server: LiveServer, canary: Canary) -> None:
    with httpx.Client(base_url=ro_server.url, timeout=30) as http:

        @FUZZ
        @given(data=st.data())
        def probe(data: st.DataObject) -> None:
            query = data.draw(service_query(canary.url))
            for response in (http.get("/sparql", params={"query": query}),
                             http.post("/sparql", content=query, headers={"Content-Type": "application/sparql-query"})):
                assert response.status_code == 400, (query, response.status_code, response.text)
            check = http.get("/sparql/check", params={"q": query})
            assert check.status_code == 200 and check.json()["ok"] is False, query
            assert canary.connections == 0, query

        probe()
    assert canary.seen() == 0


def test_fuzzed_load_and_service_updates(rw_server: LiveServer, canary: Canary) -> None:
    with httpx.Client(base_url=rw_server.url, timeout=30, headers=AUTH) as http:

        @FUZZ
        @given(data=st.data())
        def probe(data: st.DataObject) -> None:
            update = data.draw(st.one_of(load_update(canary.url), service_update(canary.url)))
            for response in (http.post("/sparql", content=update, headers={"Content-Type": "application/sparql-update"}),
                             http.post("/sparql", data={"update": update})):
                assert response.status_code == 400, (update, response.status_code, response.text)
            check = http.get("/sparql/check", params={"q": update})
            assert check.status_code == 200 and check.json()["ok"] is False, update
            assert canary.connections == 0, update

        probe()
    assert canary.seen() == 0


def test_the_fuzzer_generates_real_attacks() -> None:
    """Most generated texts are accepted by pyoxigraph on its own and make it call the canary: the fuzzer
    probes the guard with working attacks, not with syntax errors."""
    import pyoxigraph as ox

    own = Canary()
    accepted = total = 0

    @settings(max_examples=100, deadline=None)
    @given(data=st.data())
    def attack(data: st.DataObject) -> None:
        nonlocal accepted, total
        text = data.draw(st.one_of(service_query(own.url), load_update(own.url), service_update(own.url)))
        total += 1
        try:
            if "SELECT" in text:
                list(ox.Store().query(text))
            else:
                ox.Store().update(text)
            accepted += 1
        except SyntaxError:
            pass
        except OSError:
            accepted += 1

    try:
        attack()
        assert accepted >= total * 0.5, (accepted, total)
        assert own.seen() >= accepted * 0.25  # (an empty store skips a SERVICE behind OPTIONAL, MINUS...)
    finally:
        own.close()
