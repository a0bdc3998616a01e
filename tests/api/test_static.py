"""The static pages' shared head (api/static.py): each page's HTML file starts with the
placeholder line, and the API serves it as the doctype, the `<html>` tag and the page's head
from one template with the page's own title, style sheets, scripts and meta lines."""

from __future__ import annotations

from importlib import resources

import pytest
from fastapi.testclient import TestClient

from api.static import Head, page_router

SHARED = ('<!doctype html>\n<html lang="de">\n<head>\n<meta charset="utf-8">\n'
          '<meta name="viewport" content="width=device-width, initial-scale=1">\n')
MAP = ('<link rel="stylesheet" href="/vendor/leaflet/leaflet.css">\n'
       '<link rel="stylesheet" href="/common/map.css">\n')
MAP_SCRIPTS = ('<script src="/vendor/leaflet/leaflet.js" defer></script>\n'
               '<script src="/common/map.js" defer></script>\n')
NO_REFERRER = '<meta name="referrer" content="no-referrer">\n'

# Every page's head as the browser gets it, to the letter.
HEADS = {
    "/crew/": SHARED + '<meta name="theme-color" content="#000000">\n'
    "<title>Bauhof \u2013 Aufträge</title>\n"
    '<link rel="manifest" href="manifest.json">\n<link rel="stylesheet" href="app.css">\n'
    '<script src="app.js" defer></script>\n</head>\n',
    "/planner/": SHARED + "<title>Bauhof \u2013 Tourenplanung</title>\n" + MAP
    + '<link rel="stylesheet" href="app.css">\n' + MAP_SCRIPTS
    + '<script src="app.js" defer></script>\n</head>\n',
    "/portal/": SHARED + "<title>Mach' Herrenberg grün! \u2013 Grünflächen-Patenschaften"
    "</title>\n" + MAP + '<link rel="stylesheet" href="app.css">\n' + MAP_SCRIPTS
    + '<script src="app.js" defer></script>\n</head>\n',
    "/portal/act.html": SHARED + NO_REFERRER + "<title>Mach' Herrenberg grün!</title>\n"
    '<link rel="stylesheet" href="app.css">\n<script src="act.js" defer></script>\n</head>\n',
    "/portal/staff.html": SHARED + NO_REFERRER + "<title>Patenschaften \u2013 Bauhof</title>\n"
    '<link rel="stylesheet" href="app.css">\n<script src="staff.js" defer></script>\n'
    "</head>\n",
    "/melden/": SHARED + "<title>Mängel melden \u2013 Bauhof</title>\n" + MAP
    + '<link rel="stylesheet" href="melden.css">\n' + MAP_SCRIPTS
    + '<script src="i18n.js" defer></script>\n<script src="melden.js" defer></script>\n'
    "</head>\n",
    "/melden/status.html": SHARED + "<title>Stand Ihrer Meldung \u2013 Bauhof</title>\n"
    '<link rel="stylesheet" href="melden.css">\n<script src="i18n.js" defer></script>\n'
    '<script src="status.js" defer></script>\n</head>\n',
    "/melden/abmelden.html": SHARED + "<title>Keine E-Mails mehr \u2013 Bauhof</title>\n"
    '<link rel="stylesheet" href="melden.css">\n<script src="i18n.js" defer></script>\n'
    '<script src="abmelden.js" defer></script>\n</head>\n'}
# The first line of each page's body, after the head.
BODIES = {"/crew/": "<body>\n<header>\n  <h1 data-i18n=\"title\">Bauhof \u2013 Aufträge</h1>",
          "/planner/": '<body>\n<header>\n  <h1 data-i18n="title">Bauhof \u2013 Tourenplanung'
          "</h1>",
          "/portal/": "<body>\n<header>\n  <h1 data-i18n=\"title\">Mach' Herrenberg grün!</h1>",
          "/portal/act.html": "<body>\n<header>\n  <h1 data-i18n=\"title\">Mach' Herrenberg "
          "grün!</h1>",
          "/portal/staff.html": '<body>\n<header>\n  <h1 data-i18n="title">Patenschaften '
          "verwalten</h1>",
          "/melden/": '<body>\n<header>\n  <h1 data-i18n="title">Mängel melden</h1>',
          "/melden/status.html": '<body>\n<header>\n  <h1 data-i18n="status-title">Stand Ihrer '
          "Meldung</h1>",
          "/melden/abmelden.html": '<body>\n<header>\n  <h1 data-i18n="optout-title">Keine '
          "E-Mails mehr</h1>"}


def on_disk(path: str) -> str:
    """The page's HTML file as it is in the package."""
    page, _, name = path.strip("/").partition("/")
    return resources.files("api").joinpath("static", page, name or "index.html").read_text()


@pytest.mark.parametrize("path", sorted(HEADS))
def test_every_page_is_served_with_its_head_from_the_template(client: TestClient,
                                                              path: str) -> None:
    page = client.get(path)
    assert (page.status_code, page.headers["content-type"]) == (200, "text/html; charset=utf-8")
    head, body = page.text.split("</head>\n")
    assert head + "</head>\n" == HEADS[path]
    assert body.startswith(BODIES[path] + "\n")
    for line in SHARED.splitlines():
        assert page.text.count(line) == 1, line
    # The file holds the placeholder and the body; none of the shared lines.
    file = on_disk(path)
    assert file == "<!-- bauhof:head -->\n" + body
    assert [line for line in SHARED.splitlines() if line in file] == []


def test_every_html_file_has_a_head_and_no_other_file_has_one() -> None:
    with pytest.raises(ValueError, match=r"^page: heads for \['b.html'\], HTML files "
                                         r"\['a.html'\]$"):
        page_router("x", ("a.html", "a.js"), "'self'", "page", heads={
            "b.html": Head("B", (), ())})


def test_the_template_escapes_the_values() -> None:
    assert Head("Fish & Chips <1>", ("a&b.css",), ('x".js',), lang="en").render() == (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Fish &amp; Chips &lt;1&gt;</title>\n"
        '<link rel="stylesheet" href="a&amp;b.css">\n'
        '<script src="x&quot;.js" defer></script>\n</head>\n')
