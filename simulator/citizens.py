"""Simulated citizens and sponsors on the portal ("Mach' Herrenberg grün!"), so the demo's
portal is alive: each simulated day, staff approve the requests confirmed the day before,
a citizen asks for a free area (probability ASK_P) and confirms from the mail, and a sponsor
who came through the portal ends the sponsorship (probability END_P). Every choice comes from
a random generator seeded with the run's seed and the day: the same seed, the same town.

`DatabaseCitizens` acts through the portal's own functions on the database (runs without an
API); `HttpCitizens` goes through the API as people do: the public inquiry, the signed links
(signed with the link secret the simulator shares with the demo's API), and the staff
endpoints with the simulator's administrator token.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import httpx

from bauhof import signed_links
from simulator import SimulatorError
from simulator.clock import from_us

ASK_P = 0.5
END_P = 0.15
STAFF = "planner:simulator"


class CitizenError(SimulatorError):
    """The simulated citizens cannot reach the portal."""


class CitizenBackend(Protocol):
    """How citizens, sponsors and staff reach the portal."""

    def free_areas(self) -> list[str]:
        """Areas nobody sponsors or has asked for."""
        ...

    def ask(self, area_id: str, name: str, email: str, at: datetime) -> None:
        """Ask for an area and confirm from the mail."""
        ...

    def approve_requests(self, at: datetime) -> int:
        """Staff approve every confirmed request; how many."""
        ...

    def portal_sponsors(self) -> list[str]:
        """The sponsors (ids) of active portal sponsorships."""
        ...

    def end(self, sponsor_id: str, at: datetime) -> None:
        """A sponsor ends from the mail link."""
        ...


class Citizens:
    """Decides, day by day and deterministically by seed, who asks and who ends."""

    def __init__(self, backend: CitizenBackend, seed: int) -> None:
        self.backend = backend
        self.seed = seed
        self.asked = 0
        self.ended = 0
        self.approved = 0

    def summary(self) -> dict[str, int]:
        """What happened on the portal so far."""
        return {"asked": self.asked, "approved": self.approved, "ended": self.ended}

    def day(self, day_us: int) -> list[tuple[str, str]]:
        """One day on the portal; the (event, subject) pairs it caused."""
        at = from_us(day_us)
        rng = random.Random(f"{self.seed}:{at.date().isoformat()}")
        events: list[tuple[str, str]] = []
        self.approved += self.backend.approve_requests(at)
        free = sorted(self.backend.free_areas())
        if free and rng.random() < ASK_P:
            area = rng.choice(free)
            n = self.asked + 1
            self.backend.ask(area, f"Bürgerin {n}", f"buerger{n:03d}@example.org", at)
            self.asked += 1
            events.append(("asked", area))
        sponsors = sorted(self.backend.portal_sponsors())
        if sponsors and rng.random() < END_P:
            sponsor = rng.choice(sponsors)
            self.backend.end(sponsor, at)
            self.ended += 1
            events.append(("ended", sponsor))
        return events


_FREE = ("SELECT a.id FROM green_areas a WHERE a.retired_at IS NULL AND a.sponsor_id IS NULL "
         "AND NOT EXISTS (SELECT 1 FROM sponsorships s WHERE s.area_id = a.id AND s.status IN "
         "('unconfirmed', 'requested', 'active')) ORDER BY a.id")
_SPONSORS = "SELECT sponsor_id FROM sponsorships WHERE status = 'active' ORDER BY sponsor_id"


class DatabaseCitizens:
    """The portal's functions on Bauhof's database (mails are queued without links)."""

    def __init__(self, database_url: str) -> None:
        from bauhof import db

        self.conn = db.connect(database_url, autocommit=True,
                               application_name="bauhof-simulator-citizens")

    def free_areas(self) -> list[str]:
        """Areas nobody sponsors or has asked for."""
        return [str(r[0]) for r in self.conn.execute(_FREE).fetchall()]

    def ask(self, area_id: str, name: str, email: str, at: datetime) -> None:
        """Ask for an area and confirm from the mail."""
        from api import sponsorship_store as store

        sid = store.inquire(self.conn, store.Inquiry(area_id, name, email, None, None, "de",
                                                     None), at, _no_link)
        store.confirm(self.conn, sid, at)

    def approve_requests(self, at: datetime) -> int:
        """Staff approve every confirmed request."""
        from api import sponsorship_store as store

        count = 0
        for row in store.listing(self.conn, "requested", None, 0, 500):
            try:
                store.approve(self.conn, row.id, STAFF, at, _no_link)
                count += 1
            except store.SponsorshipError:
                store.decline(self.conn, row.id, STAFF, "Die Fläche ist schon vergeben.", at)
        return count

    def portal_sponsors(self) -> list[str]:
        """Sponsors of active portal sponsorships."""
        return [str(r[0]) for r in self.conn.execute(_SPONSORS).fetchall()]

    def end(self, sponsor_id: str, at: datetime) -> None:
        """A sponsor ends."""
        from api import sponsorship_store as store

        store.end_by_sponsor(self.conn, sponsor_id, at)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def _no_link(_action: str, _subject: str) -> str:
    return ""


class HttpCitizens:
    """The portal through Bauhof's API, with the simulator's administrator token."""

    def __init__(self, api_url: str, token: str, link_secret: str, *,
                 transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self._http = httpx.Client(base_url=api_url.rstrip("/"), timeout=10.0,
                                  transport=transport)
        self._auth = {"Authorization": f"Bearer {token}"}
        self._secret = link_secret
        self._clock = clock

    def _json(self, method: str, path: str, doing: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise CitizenError(f"{doing}: {exc}") from exc
        if response.status_code >= 400:
            raise CitizenError(f"{doing}: HTTP {response.status_code} "
                               f"{response.text[:200]}")
        return response.json() if response.content else None

    def _list(self, query: str) -> list[dict[str, Any]]:
        page = self._json("GET", f"/api/v1/sponsorships?{query}&limit=500",
                          "list sponsorships", headers=self._auth)
        return list(page["items"])

    def free_areas(self) -> list[str]:
        """Areas the public map shows as free."""
        body = self._json("GET", "/api/v1/public/green-areas", "read the map")
        return [f["id"] for f in body["features"] if f["properties"]["status"] == "free"]

    def _act(self, action: str, subject: str, at: datetime) -> None:
        # Links are signed now (the API checks them against its own clock), not at `at`.
        now = self._clock() if self._clock else datetime.now(at.tzinfo)
        token = signed_links.sign(self._secret, action, subject, now)
        self._json("POST", "/api/v1/public/sponsor-actions", f"follow the {action} link",
                   json={"token": token})

    def ask(self, area_id: str, name: str, email: str, at: datetime) -> None:
        """The public inquiry, then the confirmation link of its mail."""
        self._json("POST", "/api/v1/public/sponsorships", "ask for an area", json={
            "area_id": area_id, "name": name, "email": email, "accept_terms": True})
        mine = [s for s in self._list(f"status=unconfirmed&area_id={area_id}")
                if s["email"] == email]
        for item in mine:
            self._act("confirm", str(item["id"]), at)

    def approve_requests(self, at: datetime) -> int:
        """Staff approve every confirmed request (a taken area's request is declined)."""
        count = 0
        for item in self._list("status=requested"):
            try:
                self._json("POST", f"/api/v1/sponsorships/{item['id']}/approve", "approve",
                           headers=self._auth)
                count += 1
            except CitizenError:
                self._json("POST", f"/api/v1/sponsorships/{item['id']}/decline", "decline",
                           headers=self._auth,
                           json={"reason": "Die Fläche ist schon vergeben."})
        return count

    def portal_sponsors(self) -> list[str]:
        """Sponsors of active portal sponsorships."""
        return sorted(str(s["sponsor_id"]) for s in self._list("status=active"))

    def end(self, sponsor_id: str, at: datetime) -> None:
        """The sponsor follows the end link of the welcome mail."""
        self._act("end", sponsor_id, at)

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()
