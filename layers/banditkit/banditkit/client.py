"""A Python client of the banditkit API, on the standard library (no HTTP dependency):

    from banditkit import Client

    api = Client("http://127.0.0.1:8000", api_key="key1")
    exp = api.create_experiment("Pricing page", variants=["control", "annual_first"])
    api.post_day(exp.id, "2025-01-15", {"control": (5000, 150), "annual_first": (5000, 185)})
    print(api.allocation(exp.id).allocations)

Every method returns the API's own pydantic model. A problem answer raises ApiError (or a
subclass by status) carrying the problem+json. Requests the server could not take (no
connection, 502/503/504, 429) are retried with exponential backoff, honouring Retry-After;
increments carry an Idempotency-Key made here, the same on every retry, so a retry never
counts twice. A create without a client-chosen id is not retried after a lost answer
(it could create two experiments).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from banditkit import models

M = TypeVar("M", bound=BaseModel)
RETRY_STATUSES = frozenset({429, 502, 503, 504})
CSV_COLUMNS = ("experiment_id", "date", "variant_name", "impressions", "clicks", "conversions")
# A day's rows: {"control": (impressions, clicks[, conversions])} or event row dicts.
DayRows = Mapping[str, Sequence[int]] | Iterable[Mapping[str, Any]]


class ClientError(Exception):
    """Base of the client's errors."""


class TransportError(ClientError):
    """The server could not be reached (after the retries)."""


class ApiError(ClientError):
    """The API answered an error; `problem` is its problem+json body."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.detail = str(problem.get("detail", ""))
        self.errors: list[dict[str, str]] = list(problem.get("errors") or [])
        fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in self.errors)
        super().__init__(f"{status} {problem.get('title', 'error')}: {fields or self.detail}")


class Unauthorized(ApiError):
    """401 or 403: no key, or a wrong one."""


class NotFound(ApiError):
    """404: no such experiment (or route)."""


class Conflict(ApiError):
    """409: the id exists, a concurrent change, or an Idempotency-Key reused."""


class InvalidRequest(ApiError):
    """400 or 422: the request breaks a rule; `errors` names each field."""


class ServerError(ApiError):
    """5xx, after the retries."""


def _error_class(status: int) -> type[ApiError]:
    if status in (401, 403):
        return Unauthorized
    if status == 404:
        return NotFound
    if status == 409:
        return Conflict
    if status in (400, 422):
        return InvalidRequest
    if status >= 500:
        return ServerError
    return ApiError


def rows_csv(rows: Iterable[Mapping[str, Any]], experiment_id: str | int | None = None) -> bytes:
    """CSV bytes of row dicts (`date`, `variant_name`, `impressions`, `clicks`,
    `conversions`, and `experiment_id` unless given): a list of dicts, `csv.DictReader`, or
    a DataFrame's `to_dict("records")`. Dates may be date objects."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        exp = row.get("experiment_id", experiment_id)
        day = row["date"]
        writer.writerow(
            [
                "" if exp is None else exp,
                day.isoformat() if isinstance(day, dt.date) else day,
                row.get("variant_name", row.get("name")),
                row["impressions"],
                row["clicks"],
                row.get("conversions", 0),
            ]
        )
    return out.getvalue().encode()


def _day_rows(rows: DayRows) -> list[dict[str, Any]]:
    if isinstance(rows, Mapping):
        out = []
        for name, counts in rows.items():
            row = {"variant_name": name, "impressions": counts[0], "clicks": counts[1]}
            if len(counts) > 2:
                row["conversions"] = counts[2]
            out.append(row)
        return out
    return [dict(r) for r in rows]


class Client:
    """The banditkit API at `base_url` (e.g. http://127.0.0.1:8000)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError(f"base_url must be an http:// or https:// URL, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep

    # ---- transport

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        retry_lost: bool = True,
    ) -> tuple[int, bytes]:
        """(status, body) of a 2xx answer; ApiError for an error answer. Retries what the
        server could not take; `retry_lost=False` does not resend after a lost answer."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        url = self.base_url + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        sent = dict(headers or {})
        if self.api_key:
            sent["x-api-key"] = self.api_key
        if json_body is not None:
            body, content_type = json.dumps(json_body).encode(), "application/json"
        if content_type:
            sent["content-type"] = content_type
        sent.setdefault("accept", "application/json")
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            # http(s) only: __init__ refuses any other scheme.
            req = urllib.request.Request(url, data=body, headers=sent, method=method)  # noqa: S310
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as response:  # noqa: S310
                    return response.status, response.read()
            except urllib.error.HTTPError as err:
                raw = err.read()
                if err.code in RETRY_STATUSES and not last:
                    self.sleep(self._delay(attempt, err.headers.get("retry-after")))
                    continue
                raise _error_class(err.code)(err.code, self._problem(err.code, raw)) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
                if last or (not retry_lost and _maybe_sent(err)):
                    raise TransportError(f"{method} {url}: {err}") from err
                self.sleep(self._delay(attempt, None))
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None and retry_after.isdigit():
            return float(min(int(retry_after), 60))
        return float(self.backoff * 2**attempt)

    @staticmethod
    def _problem(status: int, raw: bytes) -> dict[str, Any]:
        try:
            problem = json.loads(raw)
        except ValueError:
            problem = None
        if isinstance(problem, dict):
            return problem
        return {"status": status, "title": "error", "detail": raw.decode(errors="replace")}

    def _get(self, model: type[M], path: str, **params: Any) -> M:
        _, raw = self.request("GET", path, params=params)
        return parse(model, raw)

    def _post(self, model: type[M], path: str, **kwargs: Any) -> M:
        _, raw = self.request("POST", path, **kwargs)
        return parse(model, raw)

    # ---- experiments

    def health(self) -> models.HealthOut:
        return self._get(models.HealthOut, "/health")

    def create_experiment(
        self,
        name: str,
        *,
        id: str | int | None = None,
        variants: Sequence[str | Mapping[str, Any]] | None = None,
        description: str = "",
        settings: Mapping[str, Any] | None = None,
    ) -> models.ExperimentOut:
        body: dict[str, Any] = {"name": name, "description": description}
        if id is not None:
            body["id"] = id
        if variants is not None:
            body["variants"] = [v if isinstance(v, str) else dict(v) for v in variants]
        if settings:
            body["settings"] = dict(settings)
        return self._post(
            models.ExperimentOut, "/experiments", json_body=body, retry_lost=id is not None
        )

    def experiments(
        self, status: models.ExperimentStatus | None = None, page_size: int = 200
    ) -> Iterator[models.ExperimentOut]:
        """Every experiment, oldest first, a page at a time."""
        cursor = None
        while True:
            page = self._get(
                models.ExperimentPage, "/experiments", status=status, limit=page_size, cursor=cursor
            )
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def list_experiments(
        self, status: models.ExperimentStatus | None = None
    ) -> list[models.ExperimentOut]:
        return list(self.experiments(status))

    def get_experiment(self, experiment_id: str | int) -> models.ExperimentOut:
        return self._get(models.ExperimentOut, f"/experiments/{_quote(experiment_id)}")

    def update_experiment(self, experiment_id: str | int, **patch: Any) -> models.ExperimentOut:
        _, raw = self.request("PATCH", f"/experiments/{_quote(experiment_id)}", json_body=patch)
        return parse(models.ExperimentOut, raw)

    def delete_experiment(self, experiment_id: str | int) -> None:
        self.request("DELETE", f"/experiments/{_quote(experiment_id)}")

    # ---- data in

    def post_day(
        self,
        experiment_id: str | int,
        date: dt.date | str,
        rows: DayRows,
        *,
        mode: models.WriteMode = "set",
        idempotency_key: str | None = None,
    ) -> models.EventsOut:
        """One day's counts: `{"control": (impressions, clicks[, conversions])}` or event
        row dicts. An increment gets an Idempotency-Key unless one is given."""
        body = {
            "experiment_id": experiment_id,
            "date": date.isoformat() if isinstance(date, dt.date) else date,
            "variants": _day_rows(rows),
            "mode": mode,
        }
        return self._post(
            models.EventsOut, "/events", json_body=body, headers=_key(mode, idempotency_key)
        )

    def import_csv(
        self,
        data: bytes | str | Path,
        experiment_id: str | int | None = None,
        *,
        mode: models.WriteMode = "set",
        idempotency_key: str | None = None,
    ) -> models.ImportOut | models.FileImportOut:
        """A CSV file (bytes, text or a path): into one experiment when `experiment_id` is
        given (ImportOut), else by its experiment_id column (FileImportOut)."""
        if isinstance(data, Path):
            data = data.read_bytes()
        if isinstance(data, str):
            data = data.encode()
        kwargs: dict[str, Any] = {
            "body": data,
            "content_type": "text/csv",
            "params": {"mode": mode},
            "headers": _key(mode, idempotency_key),
        }
        if experiment_id is None:
            return self._post(models.FileImportOut, "/import", **kwargs)
        path = f"/experiments/{_quote(experiment_id)}/import"
        return self._post(models.ImportOut, path, **kwargs)

    def import_rows(
        self,
        rows: Iterable[Mapping[str, Any]],
        experiment_id: str | int | None = None,
        *,
        mode: models.WriteMode = "set",
        idempotency_key: str | None = None,
    ) -> models.ImportOut | models.FileImportOut:
        """Row dicts (a DataFrame's `to_dict("records")`, a csv.DictReader, ...) as one
        all-or-nothing CSV import."""
        data = rows_csv(rows, experiment_id)
        return self.import_csv(data, experiment_id, mode=mode, idempotency_key=idempotency_key)

    # ---- answers

    def allocation(
        self, experiment_id: str | int, window_days: int | None = None
    ) -> models.AllocationOut:
        return self._get(
            models.AllocationOut,
            "/allocation",
            experiment_id=experiment_id,
            window_days=window_days,
        )

    def report(self, experiment_id: str | int) -> models.ReportOut:
        return self._get(models.ReportOut, f"/experiments/{_quote(experiment_id)}/report")

    def history(
        self,
        experiment_id: str | int,
        start_date: dt.date | None = None,
        end_date: dt.date | None = None,
        page_size: int = 500,
    ) -> list[models.SnapshotOut]:
        """Every snapshot (newest first), between start_date and end_date when given."""
        out: list[models.SnapshotOut] = []
        cursor = None
        while True:
            page = self._get(
                models.HistoryOut,
                f"/experiments/{_quote(experiment_id)}/history",
                start_date=start_date,
                end_date=end_date,
                limit=page_size,
                cursor=cursor,
            )
            out.extend(page.items)
            if not page.next_cursor:
                return out
            cursor = page.next_cursor

    def metrics(self, experiment_id: str | int) -> models.MetricsOut:
        return self._get(models.MetricsOut, f"/experiments/{_quote(experiment_id)}/metrics")

    def assign(self, experiment_id: str | int, unit_id: str) -> models.AssignOut:
        return self._get(models.AssignOut, "/assign", experiment_id=experiment_id, unit_id=unit_id)

    def simulate(self, body: models.SimulateIn | Mapping[str, Any]) -> models.SimulateOut:
        payload = (
            body.model_dump(mode="json", exclude_unset=True)
            if isinstance(body, BaseModel)
            else body
        )
        return self._post(models.SimulateOut, "/simulate", json_body=dict(payload))


def parse(model: type[M], raw: bytes) -> M:
    """The answer as `model`. Fields this version does not know (a newer server's) are
    dropped rather than refused, so a client keeps working across server upgrades."""
    data = json.loads(raw)
    for _ in range(100):  # each pass drops every unknown field it was told of
        try:
            return model.model_validate(data)
        except ValidationError as err:
            extra = [e["loc"] for e in err.errors() if e["type"] == "extra_forbidden"]
            if len(extra) != err.error_count():
                raise
            for loc in extra:
                holder = data
                for part in loc[:-1]:
                    holder = holder[part]
                holder.pop(loc[-1], None)
    raise AssertionError("unreachable")  # pragma: no cover


def _quote(experiment_id: str | int) -> str:
    return urllib.parse.quote(str(experiment_id), safe="")


def _key(mode: models.WriteMode, given: str | None) -> dict[str, str]:
    """The Idempotency-Key header: the given one, else a new one for an increment."""
    if given is None and mode == "increment":
        given = f"banditkit-client-{uuid.uuid4()}"
    return {} if given is None else {"Idempotency-Key": given}


def _maybe_sent(err: Exception) -> bool:
    """False when the request certainly never reached the server (connection refused)."""
    reason = err.reason if isinstance(err, urllib.error.URLError) else err
    return not isinstance(reason, ConnectionRefusedError)
