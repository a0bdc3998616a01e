"""Open311 GeoReport v2 at /open311/v2/: services, requests, tokens, in JSON and XML.

Field names, status values (`open`, `closed`) and errors (`[{"code", "description"}]`, 403
for a missing or wrong api_key, 404 for what does not exist, 400 otherwise) follow the
GeoReport v2 specification. Every request type is `realtime`: POST answers with the
service_request_id, never a token; `tokens/{token}` still answers for the token stored with
each request, for clients written against batch servers.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from pydantic import AwareDatetime, BaseModel
from starlette.responses import FileResponse, Response

from api import open311_store as store
from api import photos
from api.database import Conn, Connection
from api.open311_edge import Open311Route, check_text, is_addr_spec, public_url_problem
from api.open311_format import render
from api.problems import Problem
from api.ratelimit import limit_public

router = APIRouter(prefix="/open311/v2", tags=["open311"],
                   dependencies=[Depends(limit_public)], route_class=Open311Route)
Format = Literal["json", "xml"]
Jurisdiction = Annotated[str | None, Query(max_length=200)]
MAX_SPAN = timedelta(days=90)


class ServiceItem(BaseModel):
    """A service type (JSON form)."""

    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class ServiceDefinition(BaseModel):
    """A service definition: no attributes for Bauhof's services."""

    service_code: str
    attributes: list[dict[str, Any]]


class Created(BaseModel):
    """POST requests: the new request's id."""

    service_request_id: int
    service_notice: str | None
    account_id: str | None


class RequestItem(BaseModel):
    """A service request as GET requests shows it."""

    service_request_id: int
    status: Literal["open", "closed"]
    status_notes: str | None
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: datetime
    updated_datetime: datetime
    expected_datetime: datetime | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class TokenItem(BaseModel):
    """A token and its request."""

    service_request_id: int
    token: str


class Open311Error(BaseModel):
    """One GeoReport error."""

    code: int
    description: str


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": list[Open311Error], "description": text, "content": {"text/xml": {}}}
    for code, text in ((400, "invalid request"), (403, "missing or invalid api_key"),
                       (404, "not found"), (429, "too many requests"))}
_XML: dict[str, Any] = {"text/xml": {}}


def _jurisdiction(request: Request, given: str | None) -> None:
    # Optional: this endpoint serves one jurisdiction; a different one does not exist here.
    if given and given != request.app.state.settings.jurisdiction_id:
        raise Problem(404, f"jurisdiction_id {given!r} not found; this endpoint serves "
                           f"{request.app.state.settings.jurisdiction_id}")


@router.get("/services.{fmt}", response_model=list[ServiceItem],
            responses={200: {"content": _XML}, **_ERRORS}, summary="GET Service List")
def services(*, request: Request, fmt: Format, jurisdiction_id: Jurisdiction = None) -> Response:
    """Bauhof's defect categories."""
    _jurisdiction(request, jurisdiction_id)
    return render(request, fmt, "services", store.service_list())


@router.get("/discovery.{fmt}", responses={200: {"content": _XML}, **_ERRORS},
            summary="Service Discovery")
def discovery(*, request: Request, fmt: Format) -> Response:
    """The spec's discovery document: this endpoint, its formats and whom to ask."""
    base = str(request.base_url).rstrip("/")
    return render(request, fmt, "discovery", {
        "changeset": "2026-12-01T00:00:00+00:00", "contact": request.app.state.settings.agency,
        "key_service": "Bauhof administrators issue api_keys (`bauhof open311 key create`).",
        "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2",
                       "url": f"{base}/open311/v2", "changeset": "2026-12-01T00:00:00+00:00",
                       "type": "production", "formats": ["text/xml", "application/json"]}]})


@router.get("/media/{name}", response_class=FileResponse, include_in_schema=True,
            responses={200: {"content": {"image/jpeg": {}}}, **_ERRORS},
            summary="A citizen's photo (stored without metadata)")
def get_media(*, request: Request, name: str) -> Response:
    """The photo a report was sent with."""
    path = photos.report_path_of(request.app.state.settings.media_dir, name)
    if path is None or not path.is_file():
        raise Problem(404, f"media {name!r} not found")
    return FileResponse(path, media_type="image/jpeg",
                        headers={"Cache-Control": "public, max-age=86400",
                                 "X-Content-Type-Options": "nosniff"})


@router.get("/service/{service_code}.{fmt}", include_in_schema=False)
@router.get("/services/{service_code}.{fmt}", response_model=ServiceDefinition,
            responses={200: {"content": _XML}, **_ERRORS}, summary="GET Service Definition")
def service_definition(*, request: Request, service_code: str, fmt: Format,
                       jurisdiction_id: Jurisdiction = None) -> Response:
    """The (empty) attribute list of a service (also at `service/…`, the path the `open311`
    Python client asks)."""
    _jurisdiction(request, jurisdiction_id)
    if service_code not in store.BY_CODE:
        raise Problem(404, f"service_code {service_code!r} not found; see services.{fmt}")
    return render(request, fmt, "service_definition",
                  {"service_code": service_code, "attributes": []})


def _text(value: str | None, limit: int, name: str) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > limit:
        raise Problem(400, f"{name} is longer than {limit} characters")
    return value.strip()


def _validated(request: Request, conn: Connection, form: dict[str, Any]) -> store.NewRequest:
    key = form.get("api_key") or request.query_params.get("api_key")
    key_id = store.check_key(conn, key) if key else None
    if key_id is None:
        raise Problem(403, "Invalid api_key received -- can't proceed with create_request."
                      if key else "api_key was not provided -- can't proceed with "
                                  "create_request.")
    code = form.get("service_code")
    if not code:
        raise Problem(400, "service_code was not provided")
    service = store.BY_CODE.get(code)
    if service is None:
        raise Problem(404, f"service_code {code!r} not found")
    lat, lon = form.get("lat"), form.get("long")
    if (lat is None) != (lon is None):
        raise Problem(400, "lat and long must both be sent")
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Problem(400, "lat must be within -90..90 and long within -180..180")
    address = _text(form.get("address_string"), 500, "address_string")
    address_id = _text(form.get("address_id"), 100, "address_id")
    if lat is None and address is None and address_id is None:
        raise Problem(400, "a location is required: lat and long, address_string or "
                           "address_id")
    email = _text(form.get("email"), 254, "email")
    if email is not None and not is_addr_spec(email):
        raise Problem(400, f"email {email!r} is not one e-mail address (name@domain.example, "
                           "no display name or list)")
    media = _text(form.get("media_url"), 2000, "media_url")
    why = None if media is None else public_url_problem(media)
    if why is not None:
        raise Problem(400, f"media_url must be an http(s) URL of a public host: {why}")
    lang = "en" if request.headers.get("accept-language", "").lower().startswith("en") \
        else "de"
    return store.NewRequest(
        service=service, key_id=key_id, requested_at=datetime.now(UTC),
        description=_text(form.get("description"), 4000, "description"), lat=lat, lon=lon,
        address_string=address, address_id=address_id, email=email,
        first_name=_text(form.get("first_name"), 200, "first_name"),
        last_name=_text(form.get("last_name"), 200, "last_name"),
        phone=_text(form.get("phone"), 50, "phone"),
        device_id=_text(form.get("device_id"), 200, "device_id"),
        account_id=_text(form.get("account_id"), 200, "account_id"), media_url=media,
        attributes=form["attributes"], lang=lang)


@router.post("/requests.{fmt}", response_model=list[Created],
             responses={200: {"content": _XML}, **_ERRORS}, summary="POST Service Request")
async def post_request(
    *,
    request: Request, conn: Conn, fmt: Format,
    api_key: Annotated[str | None, Form(max_length=200)] = None,
    jurisdiction_id: Annotated[str | None, Form(max_length=200)] = None,
    service_code: Annotated[str | None, Form(max_length=100)] = None,
    lat: Annotated[float | None, Form()] = None,
    long: Annotated[float | None, Form()] = None,
    address_string: Annotated[str | None, Form()] = None,
    address_id: Annotated[str | None, Form()] = None,
    email: Annotated[str | None, Form()] = None,
    device_id: Annotated[str | None, Form()] = None,
    account_id: Annotated[str | None, Form()] = None,
    first_name: Annotated[str | None, Form()] = None,
    last_name: Annotated[str | None, Form()] = None,
    phone: Annotated[str | None, Form()] = None,
    description: Annotated[str | None, Form()] = None,
    media_url: Annotated[str | None, Form()] = None,
    media: Annotated[UploadFile | None, File(description="a photo (JPEG, PNG or WebP), as "
                                              "clients that upload media send it")] = None,
) -> Response:
    """Form-encoded as the spec says (or multipart with a `media` photo, which is stored
    without its metadata and becomes the media_url); answers `[{service_request_id,
    service_notice, …}]`."""
    import anyio

    _jurisdiction(request, jurisdiction_id)
    raw = await request.form()
    attributes: dict[str, Any] = {}
    for name, value in raw.multi_items():
        if not isinstance(value, str):
            continue
        # Multipart bodies are not rewritten at the edge: check them here.
        check_text(name, value)
        if name.startswith("attribute[") and name.endswith("[]"):
            listed = attributes.setdefault(name[10:-3], [])
            if isinstance(listed, list):
                listed.append(value)
        elif name.startswith("attribute[") and name.endswith("]"):
            attributes[name[10:-1]] = value
    form = {"api_key": api_key, "service_code": service_code, "lat": lat, "long": long,
            "address_string": address_string, "address_id": address_id, "email": email,
            "device_id": device_id, "account_id": account_id, "first_name": first_name,
            "last_name": last_name, "phone": phone, "description": description,
            "media_url": media_url, "attributes": attributes}

    settings = request.app.state.settings
    upload = await media.read() if media is not None and media.filename else None

    def work() -> tuple[int, str, str | None]:
        new = _validated(request, conn, form)
        photo = None
        if upload:
            if new.media_url is not None:
                raise Problem(400, "send either media or media_url, not both")
            photo = photos.store_report(settings.media_dir, upload)
            # The address the report came to (behind a proxy: the Host it passes on).
            base = str(request.base_url).rstrip("/")
            new = replace(new, media_url=f"{base}/open311/v2/media/{photo.file_name}")
        try:
            request_id, notice = store.create(conn, new, settings.match_radius_m, photo)
        except BaseException:
            if photo is not None:
                photo.path.unlink(missing_ok=True)
            raise
        return request_id, notice, new.account_id

    request_id, notice, account = await anyio.to_thread.run_sync(work)
    return render(request, fmt, "service_requests", [
        {"service_request_id": request_id, "service_notice": notice, "account_id": account}])


def _date(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _split(value: str | None) -> list[str] | None:
    items = [v.strip() for v in (value or "").split(",") if v.strip()]
    return items or None


@router.get("/requests.{fmt}", response_model=list[RequestItem],
            responses={200: {"content": _XML}, **_ERRORS}, summary="GET Service Requests")
def get_requests(
    *,
    request: Request, conn: Conn, fmt: Format, jurisdiction_id: Jurisdiction = None,
    service_request_id: Annotated[str | None, Query(max_length=2000)] = None,
    service_code: Annotated[str | None, Query(max_length=500)] = None,
    start_date: Annotated[AwareDatetime | None, Query()] = None,
    end_date: Annotated[AwareDatetime | None, Query()] = None,
    status: Annotated[str | None, Query(max_length=50)] = None,
) -> Response:
    """The spec's filters: ids override the rest; at most 90 days and 1000 requests."""
    _jurisdiction(request, jurisdiction_id)
    ids = None
    if service_request_id is not None:
        parts = _split(service_request_id) or []
        if not parts or not all(p.isdigit() and len(p) < 19 for p in parts):
            raise Problem(400, "service_request_id must be comma-separated request ids")
        ids = [int(p) for p in parts]
    statuses = _split(status)
    if statuses and any(s not in ("open", "closed") for s in statuses):
        raise Problem(400, "status must be open, closed or both (comma-separated)")
    start, end = _date(start_date), _date(end_date)
    if start is None and end is None:
        end = datetime.now(UTC)
    if start is None:
        assert end is not None
        start = end - MAX_SPAN
    if end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Problem(400, "end_date is before start_date")
    if end - start > MAX_SPAN:
        raise Problem(400, "start_date and end_date may not span more than 90 days")
    query = store.Query(ids=ids, codes=_split(service_code), start=start, end=end,
                        statuses=statuses)
    found = store.find(conn, query, request.app.state.settings.agency)
    return render(request, fmt, "service_requests", found)


@router.get("/requests/{request_id}.{fmt}", response_model=list[RequestItem],
            responses={200: {"content": _XML}, **_ERRORS}, summary="GET Service Request")
def get_request(*, request: Request, conn: Conn, request_id: str, fmt: Format,
                jurisdiction_id: Jurisdiction = None) -> Response:
    """One request, as a one-element list (the spec's format)."""
    _jurisdiction(request, jurisdiction_id)
    found = []
    if request_id.isdigit() and len(request_id) < 19:
        query = store.Query(ids=[int(request_id)], codes=None, start=datetime.now(UTC),
                            end=datetime.now(UTC), statuses=None)
        found = store.find(conn, query, request.app.state.settings.agency)
    if not found:
        raise Problem(404, f"service_request_id {request_id} not found")
    return render(request, fmt, "service_requests", found)


@router.get("/tokens/{token}.{fmt}", response_model=list[TokenItem],
            responses={200: {"content": _XML}, **_ERRORS},
            summary="GET service_request_id from a token")
def get_token(*, request: Request, conn: Conn, token: str, fmt: Format,
              jurisdiction_id: Jurisdiction = None) -> Response:
    """The request a token stands for."""
    _jurisdiction(request, jurisdiction_id)
    request_id = store.by_token(conn, token) if len(token) <= 100 else None
    if request_id is None:
        raise Problem(404, f"token {token!r} not found")
    return render(request, fmt, "service_requests",
                  [{"service_request_id": request_id, "token": token}])
