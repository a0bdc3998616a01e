"""The crews' backend on Bauhof's HTTP API: the simulated crews use it as the real ones do.

An administrator's token (BAUHOF_API_TOKEN) lists the orders (a crew sees neither sponsors'
orders nor other crews') and makes each simulated crew an API user of its own name (`crew-1`,
…: created, or given a fresh token when it exists from an earlier run). Each crew starts and
finishes its orders with its own token, so the history shows `crew:crew-1` as the actor.
Crew tokens last a day, are issued again when they expire, and are revoked on `close`.

The simulated time of each step is sent as `at`; the API takes it only when it runs with
BAUHOF_API_CLIENT_TIME=1 (otherwise CrewError says so), so order times follow the stream.

Connection failures are retried with a growing wait. A transition whose answer was lost may
have been done: the retry then gets 409, and the order, read back, shows whether this crew
made it (True) or someone else closed it (False). The life cycle allows no step twice, so a
retry never records a transition twice.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any

import httpx

from bauhof.assignee import Assignee
from simulator.crews import CrewError, CrewOrder, crew_order

log = logging.getLogger("bauhof.simulator")
TOKEN_DAYS = 1
PAGE = 500
RETRIES = 6
RETRY_STATUSES = (502, 503, 504)


class HttpCrews:
    """The crew backend speaking to Bauhof's API at `api_url` with an administrator's token."""

    def __init__(self, api_url: str, token: str, *, client_time: bool = True,
                 retries: int = RETRIES, retry_wait_s: float = 0.5, timeout_s: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = api_url.rstrip("/")
        self._admin = token
        self._client_time = client_time
        self._retries = retries
        self._wait_s = retry_wait_s
        self._http = httpx.Client(base_url=self.url, timeout=timeout_s, transport=transport)
        self._tokens: dict[str, tuple[str, int]] = {}
        self._issued: list[tuple[str, int]] = []
        try:
            listed = _ok(self._call("GET", "/api/v1/users", token, "check the token"),
                         "check the token")
        except BaseException:
            self._http.close()
            raise
        self._users = {u["name"]: u for u in listed["items"]}

    def _call(self, method: str, path: str, token: str, doing: str, *,
              json: dict[str, Any] | None = None, data: dict[str, str] | None = None,
              params: dict[str, str] | None = None, expired_ok: bool = False,
              ) -> httpx.Response:
        """One request, retried on connection failures and 502-504; CrewError on 401 (unless
        `expired_ok`) and 403 and when the API stays unreachable; other answers are the
        caller's."""
        headers = {"Authorization": f"Bearer {token}"}
        failure = ""
        for attempt in range(self._retries):
            if attempt:
                time.sleep(self._wait_s * 2 ** (attempt - 1))
            try:
                response = self._http.request(method, path, headers=headers, json=json,
                                              data=data, params=params)
            except httpx.TransportError as exc:
                failure = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in RETRY_STATUSES:
                failure = f"{response.status_code} {_detail(response)}"
                continue
            if response.status_code == 401 and not expired_ok:
                raise CrewError(f"Bauhof's API at {self.url} refused the token to {doing} "
                                f"(401: {_detail(response)}); set BAUHOF_API_TOKEN to a valid "
                                "administrator's token (`bauhof users create --role admin "
                                "--name simulator`)")
            if response.status_code == 403:
                raise CrewError(f"Bauhof's API at {self.url} does not let the crews {doing} "
                                f"(403: {_detail(response)}); BAUHOF_API_TOKEN must be an "
                                "administrator's: the simulator manages its crews' users")
            return response
        raise CrewError(f"cannot reach Bauhof's API at {self.url} to {doing} after "
                        f"{self._retries} attempts ({failure}); is `bauhof api` running there?")

    def open_orders(self) -> list[CrewOrder]:
        """Untaken open orders, orders assigned to or started by a crew, and sponsors'."""
        found: list[CrewOrder] = []
        cursor: str | None = None
        while True:
            params = {"status": "open,assigned,in_progress", "limit": str(PAGE)}
            if cursor:
                params["cursor"] = cursor
            response = self._call("GET", "/api/v1/work-orders", self._admin,
                                  "list the work orders", params=params)
            page = _ok(response, "list the work orders")
            for item in page["items"]:
                order = crew_order(item)
                if order is not None:
                    found.append(order)
            cursor = page["next_cursor"]
            if not cursor:
                return found

    def start(self, order_id: int, crew: str, at: datetime) -> bool:
        """Start the order as `crew`; False when it is closed or another crew's."""
        body: dict[str, Any] = {"note": "on the way"}
        if self._client_time:
            body["at"] = at.isoformat()
        return self._move(order_id, crew, "start", "in_progress", json=body)

    def finish(self, order_id: int, crew: str, at: datetime, note: str) -> bool:
        """Finish the order as `crew`; False when it was closed meanwhile."""
        form = {"note": note}
        if self._client_time:
            form["at"] = at.isoformat()
        return self._move(order_id, crew, "done", "done", data=form)

    def _move(self, order_id: int, crew: str, step: str, to_status: str, *,
              json: dict[str, Any] | None = None, data: dict[str, str] | None = None,
              ) -> bool:
        path = f"/api/v1/work-orders/{order_id}/{step}"
        doing = f"{step} work order {order_id} as {crew}"
        response = self._call("POST", path, self._token(crew), doing, json=json, data=data,
                              expired_ok=True)
        if response.status_code == 401:
            # The crew's token expired (a run longer than TOKEN_DAYS): a new one, once.
            del self._tokens[crew]
            response = self._call("POST", path, self._token(crew), doing, json=json,
                                  data=data)
        if response.status_code == 200:
            return True
        if response.status_code == 404:  # taken by another crew meanwhile: no longer visible
            return False
        if response.status_code == 409:
            # Closed meanwhile, or done by this very request whose answer was lost.
            return self._already(order_id, crew, to_status)
        errors = _problem(response).get("errors") or []
        if any(e.get("field") == "at" for e in errors if isinstance(e, dict)):
            raise CrewError(f"Bauhof's API at {self.url} does not take the simulated time of "
                            f"the crews' work ({_detail(response)}); start the API with "
                            "BAUHOF_API_CLIENT_TIME=1 for simulations, so that order times "
                            "follow the simulated readings")
        raise CrewError(f"Bauhof's API refused to {doing}: {response.status_code} "
                        f"{_detail(response)}")

    def _already(self, order_id: int, crew: str, to_status: str) -> bool:
        """Whether the order is in `to_status` by `crew` (a lost answer's transition)."""
        response = self._call("GET", f"/api/v1/work-orders/{order_id}", self._admin,
                              f"read work order {order_id}")
        if response.status_code == 404:
            return False
        order = _ok(response, f"read work order {order_id}")
        return bool(order["status"] == to_status
                    and order["assignee"] == str(Assignee.crew(crew)))

    def _token(self, crew: str) -> str:
        """The crew's own token: its user is created, or given a new token, once per run."""
        if crew in self._tokens:
            return self._tokens[crew][0]
        user = self._users.get(crew)
        if user is not None and user["role"] != "crew":
            raise CrewError(f"user {crew!r} exists with role {user['role']}; the simulated "
                            f"crews log in as crew users of their names: rename that user")
        if user is not None and user["disabled_at"] is not None:
            raise CrewError(f"crew user {crew!r} is disabled; the simulated crews log in as "
                            "crew users of their names: remove it or use another database")
        issued: dict[str, Any] | None = None
        if user is None:
            response = self._call("POST", "/api/v1/users", self._admin, f"create user {crew}",
                                  json={"name": crew, "role": "crew",
                                        "expires_days": TOKEN_DAYS})
            if response.status_code != 409:  # 409: created meanwhile; a token follows
                issued = _ok(response, f"create user {crew}")
        if issued is None:
            issued = _ok(self._call("POST", f"/api/v1/users/{crew}/tokens", self._admin,
                                    f"issue a token for {crew}",
                                    json={"expires_days": TOKEN_DAYS}),
                         f"issue a token for {crew}")
            if issued["role"] != "crew":
                raise CrewError(f"user {crew!r} is a {issued['role']}, not a crew")
        self._users[crew] = {"name": crew, "role": "crew", "disabled_at": None}
        self._tokens[crew] = (str(issued["token"]), int(issued["token_id"]))
        self._issued.append((crew, int(issued["token_id"])))
        return self._tokens[crew][0]

    def close(self) -> None:
        """Revoke the crews' tokens of this run (one attempt each: an API that is gone
        should not hold up the end of the run) and close the connections."""
        self._retries = 1
        try:
            for crew, token_id in self._issued:
                try:
                    self._call("DELETE", f"/api/v1/users/{crew}/tokens/{token_id}",
                               self._admin, f"revoke the token of {crew}")
                except CrewError as exc:
                    log.warning("crew token %s of %s stays valid until it expires: %s",
                                token_id, crew, exc)
        finally:
            self._http.close()


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _detail(response: httpx.Response) -> str:
    """The problem document's detail, or the start of the body."""
    detail = _problem(response).get("detail")
    return str(detail) if detail else (response.text[:200] or response.reason_phrase)


def _ok(response: httpx.Response, doing: str) -> dict[str, Any]:
    """The JSON body of a successful answer; CrewError for any other."""
    if not response.is_success:
        raise CrewError(f"Bauhof's API refused to {doing}: {response.status_code} "
                        f"{_detail(response)}")
    body = _problem(response)
    if not body:
        raise CrewError(f"the answer to {doing} is not a JSON object: is {response.url} "
                        "Bauhof's API?")
    return body
