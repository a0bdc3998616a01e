"""The public side of "Mach' Herrenberg grün!": the map's GeoJSON, inquiries, and what sponsors
do from the links in their mail. No sign-in, rate-limited, never personal data in answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.responses import Response

from api import portal_view
from api import sponsorship_store as store
from api.config import ApiSettings
from api.database import Conn
from api.problems import Problem, invalid, not_found
from api.ratelimit import limit_public
from api.responses import json_response
from bauhof import signed_links

router = APIRouter(prefix="/api/v1/public", tags=["public"],
                   dependencies=[Depends(limit_public)])
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
EMAIL = r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$"


class AreaProperties(BaseModel):
    """What the portal tells about an area (no personal data)."""

    id: str
    name: str
    status: Literal["free", "requested", "sponsored"]
    area_m2: float | None
    plant_type: str
    moisture: Literal["dry", "ok", "unknown"]
    last_watered_at: str | None
    last_watered_by: Literal["sponsor", "bauhof", "rain"] | None
    planting_year: int | None
    trees: list[dict[str, Any]]
    photo_url: str | None
    radius_m: float | None
    latitude: float
    longitude: float
    takes_sponsors: bool
    sponsor_name: str | None = Field(description="only where the sponsor agreed to be named")
    inspected: str | None


class AreaFeature(BaseModel):
    """A GeoJSON Feature."""

    type: Literal["Feature"]
    id: str
    geometry: dict[str, Any]
    properties: AreaProperties


class AreaCollection(BaseModel):
    """A GeoJSON FeatureCollection (RFC 7946) of green areas."""

    type: Literal["FeatureCollection"]
    features: list[AreaFeature]


class InquiryIn(BaseModel):
    """A citizen asks to sponsor an area."""

    model_config = ConfigDict(extra="forbid")

    area_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: Text
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                            pattern=EMAIL)]
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40,
                                            pattern=r"^\+?[0-9 ()/-]{3,40}$")] | None = None
    message: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    accept_terms: Literal[True]
    lang: Literal["de", "en"] = "de"
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                   max_length=80)] | None = Field(
        default=None, description="the name the map may show; only if the sponsor agrees")
    # The honeypot: people never see this field; a bot that fills it is told "accepted".
    website: Annotated[str, StringConstraints(max_length=500)] | None = None


class Accepted(BaseModel):
    """The inquiry was taken; a mail asks to confirm it."""

    status: Literal["accepted"]
    detail: str


class ActionIn(BaseModel):
    """A signed link's token, posted by the portal page the link opens."""

    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(min_length=10, max_length=400)]


class ActionOut(BaseModel):
    """What the link did."""

    action: str
    status: str
    detail: str


def link_maker(settings: ApiSettings, now: datetime) -> store.LinkMaker:
    """Signed portal URLs for the mails of one request."""
    def make(action: str, subject: str) -> str:
        return signed_links.url(settings.public_url, settings.link_secret, action, subject, now)
    return make


def refused(exc: store.SponsorshipError) -> Problem:
    """The API's answer to a refused step."""
    if exc.status == 422 and exc.field:
        return invalid(exc.field, str(exc))
    if exc.status == 404:
        return not_found(str(exc).removesuffix(" not found"))
    slug = {409: "conflict", 410: "expired"}.get(exc.status, "refused")
    if exc.field:
        return Problem(exc.status, str(exc), slug=slug, field=exc.field)
    return Problem(exc.status, str(exc), slug=slug)


@router.get("/green-areas", response_model=AreaCollection,
            summary="The portal's green areas as GeoJSON")
def green_areas(*, request: Request, conn: Conn) -> Response:
    """Every area with its status (free, requested, sponsored) and state in words."""
    features = portal_view.public_areas(conn, request.app.state.ruleset)
    return json_response(request, {"type": "FeatureCollection", "features": features})


@router.get("/green-areas/{area_id}", response_model=AreaFeature, summary="One green area")
def green_area(*, request: Request, conn: Conn, area_id: str) -> Response:
    """One area as a GeoJSON Feature."""
    features = portal_view.public_areas(conn, request.app.state.ruleset, area_id)
    if not features:
        raise not_found(f"green area {area_id!r}")
    return json_response(request, features[0])


@router.post("/sponsorships", status_code=202, response_model=Accepted,
             summary="Ask to sponsor a green area")
def inquire(*, request: Request, conn: Conn, body: InquiryIn) -> Response:
    """202 and a double-opt-in mail; the inquiry expires unless confirmed within 72 h."""
    accepted = {"status": "accepted",
                "detail": "Bitte bestätigen Sie Ihre Anfrage über den Link in der E-Mail. / "
                          "Please confirm your inquiry from the link in the e-mail."}
    if body.website:
        return json_response(request, accepted, status_code=202)
    now = datetime.now(UTC)
    try:
        store.inquire(conn, store.Inquiry(
            area_id=body.area_id, name=body.name, email=body.email, phone=body.phone or None,
            message=body.message or None, lang=body.lang, display_name=body.display_name),
            now, link_maker(request.app.state.settings, now))
    except store.SponsorshipError as exc:
        if exc.status == 404:
            raise invalid("area_id", f"green area {body.area_id!r} does not exist") from exc
        raise refused(exc) from exc
    return json_response(request, accepted, status_code=202)


DONE = {
    "confirm": "Danke! Ihre Anfrage ist bestätigt; der Bauhof meldet sich. / Thank you! Your "
               "inquiry is confirmed; the Bauhof will be in touch.",
    "watered": "Danke fürs Gießen! / Thank you for watering!",
    "cannot": "Kein Problem, der Bauhof gießt diesmal. / No problem, the Bauhof waters this "
              "time.",
    "end": "Ihre Patenschaft ist beendet. Danke für Ihre Hilfe! / Your sponsorship has ended. "
           "Thank you for your help!",
    "stop_mail": "Sie bekommen keine E-Mails mehr. / You will get no more e-mails.",
}


@router.post("/sponsor-actions", response_model=ActionOut,
             summary="Carry out a signed link from a sponsor's mail",
             responses={410: {"description": "the link (or the inquiry) has expired"}})
def act(*, request: Request, conn: Conn, body: ActionIn) -> Response:
    """Confirm an inquiry, report watering, hand a watering to Bauhof, end, or stop mail."""
    settings: ApiSettings = request.app.state.settings
    now = datetime.now(UTC)
    try:
        link = signed_links.verify(settings.link_secret, body.token, now)
    except signed_links.LinkError as exc:
        code = 410 if exc.reason == "the link has expired" else 403
        raise Problem(code, exc.reason, slug="bad-link") from exc
    try:
        if link.action == "confirm":
            if not link.subject.isdigit():
                raise Problem(403, "the link is not valid", slug="bad-link")
            status: str = store.confirm(conn, int(link.subject), now).status
        elif link.action == "watered":
            store.watered(conn, link.subject, now)
            status = "recorded"
        elif link.action == "cannot":
            store.cannot(conn, link.subject, now)
            status = "handed_over"
        elif link.action == "end":
            store.end_by_sponsor(conn, link.subject, now)
            status = "ended"
        else:
            store.stop_mail(conn, link.subject, now)
            status = "mail_stopped"
    except store.SponsorshipError as exc:
        raise refused(exc) from exc
    return json_response(request, {"action": link.action, "status": status,
                                   "detail": DONE[link.action]})
