"""DynamoDB backend: the single-table layout of dynamodb_tables.py, through a boto3 client.

- The client is injected (tests, Lambda) or created at the first call, with botocore's
  retry mode set explicitly (`standard` by default; `adaptive` also works): throttling,
  timeouts and dropped connections are retried by botocore with backoff.
- Every multi-variant write is ONE TransactWriteItems: a condition that the experiment
  exists, one Put (`set`) or Update with ADD (`increment`) per row, and the idempotency
  record as a conditional Put in the idempotency table: the record and the counts commit
  together or not at all. Every transaction carries a ClientRequestToken minted once for
  the request (the write_daily or write_snapshot call) and the part, and kept on every
  retry of it, botocore's and the store's: DynamoDB applies a token once within 10 minutes
  and answers a retry of a committed one with success, so a retry after a lost answer or
  an "in progress" never counts twice, with or without an idempotency record (a client
  that retries a whole request after a 503 needs its Idempotency-Key). A batch beyond one
  transaction (a CSV import) is a sequence of such transactions, each with its own
  idempotency record derived from the request's (see `write_daily`). Cancellations caused
  by conflicts or throttling inside the transaction are retried here (botocore does not
  retry them), with jittered backoff, up to `max_attempts`.
- DynamoDB's limits are enforced here before calling (moto does not enforce them all):
  100 items a transaction, 25 a batch write, 400 KB an item, 4 MB a transaction; every
  Query and Scan follows LastEvaluatedKey.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from banditkit.store import dynamodb_tables as tables
from banditkit.store._common import (
    check_rows,
    decode_cursor,
    encode_cursor,
    experiment_cursor,
    experiment_fields,
    experiment_from_fields,
    experiment_page,
    first_response,
    leader_json,
    leader_of,
    page_limit,
    refused_update,
    search_query,
    search_text_of,
    snapshot_fields,
    snapshot_from_fields,
    ts,
    with_new_variants,
)
from banditkit.store.base import (
    MAX_COUNT,
    Conflict,
    DailyRow,
    Experiment,
    ExperimentNotFound,
    ExperimentStatus,
    IdempotencyKeyRequired,
    IdempotencyRecord,
    InvalidCursor,
    InvalidMetrics,
    Page,
    Snapshot,
    StoreError,
    StoreLimitExceeded,
    StoreUnavailable,
    WriteMode,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

VARIANT_ROUNDS = 8  # x max_attempts: tries of a write whose new variants race others'
MAX_TRANSACTION_ITEMS = 100
MAX_BATCH_WRITE = 25
MAX_ITEM_BYTES = 400 * 1024
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
MAX_PK_BYTES = 2048
MAX_SK_BYTES = 1024
STATUSES: tuple[ExperimentStatus, ...] = ("running", "paused", "completed")

# Error codes meaning "busy or unreachable, nothing (more) was written".
_BUSY_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
# Error codes the callers turn into Conflict, ExperimentNotFound, replays, retries.
_HANDLED_CODES = frozenset(
    {
        "ConditionalCheckFailedException",
        "TransactionCanceledException",
        "TransactionInProgressException",
    }
)
# Cancellation reasons after which running the same transaction again is safe.
_RETRY_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)

Item = dict[str, dict[str, Any]]
# A META item marked `deleting` is a tombstone: its experiment is gone (reads say not found,
# writes fail this condition) while the sweep of its items runs, or after it was cut off.
LIVE = "attribute_exists(PK) AND attribute_not_exists(deleting)"


def client_config(
    *,
    retry_mode: Literal["standard", "adaptive"] = "standard",
    max_attempts: int = 5,
    connect_timeout: float = 2.0,
    read_timeout: float = 5.0,
) -> Any:
    """The botocore Config every banditkit DynamoDB client uses: retries set explicitly,
    max_attempts counting the first call."""
    from botocore.config import Config

    return Config(
        retries={"mode": retry_mode, "total_max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
    )


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def item_size(item: Item) -> int:
    """An upper estimate of DynamoDB's billed item size in bytes."""

    def value_size(v: dict[str, Any]) -> int:
        (kind, raw), *_ = v.items()
        if kind == "S":
            return len(raw.encode())
        if kind == "N":
            return len(raw) // 2 + 2
        if kind == "B":
            return len(raw)
        if kind in ("BOOL", "NULL"):
            return 1
        if kind == "M":
            return 3 + sum(len(k.encode()) + value_size(x) + 1 for k, x in raw.items())
        if kind == "L":
            return 3 + sum(value_size(x) + 1 for x in raw)
        return sum(len(str(x).encode()) for x in raw)  # SS / NS / BS

    return sum(len(name.encode()) + value_size(v) for name, v in item.items())


def _check_item(item: Item) -> None:
    if item_size(item) > MAX_ITEM_BYTES:
        raise StoreLimitExceeded("an item would exceed DynamoDB's 400 KB limit")
    if len(item[tables.PK]["S"].encode()) > MAX_PK_BYTES:
        raise StoreLimitExceeded("an experiment id would exceed DynamoDB's key size limit")
    if len(item[tables.SK]["S"].encode()) > MAX_SK_BYTES:
        raise StoreLimitExceeded("a name or key would exceed DynamoDB's sort key size limit")


def _entry_size(entry: dict[str, Any]) -> int:
    """The bytes one transaction entry counts towards the 4 MB limit (its item or key)."""
    (op, body), *_ = entry.items()
    item: Item = body["Item"] if op == "Put" else body["Key"]
    _check_item(item)
    return item_size(item)


def _check_transaction(items: Sequence[dict[str, Any]]) -> None:
    """StoreLimitExceeded unless the transaction fits DynamoDB's item and byte limits."""
    if len(items) > MAX_TRANSACTION_ITEMS:
        raise StoreLimitExceeded(
            f"{len(items)} items exceed DynamoDB's {MAX_TRANSACTION_ITEMS} a transaction"
        )
    if sum(_entry_size(entry) for entry in items) > MAX_TRANSACTION_BYTES:
        raise StoreLimitExceeded("the transaction would exceed DynamoDB's 4 MB limit")


def split_writes(writes: Sequence[dict[str, Any]], reserved: int) -> list[list[dict[str, Any]]]:
    """Consecutive parts of `writes`, each fitting one transaction next to `reserved` other
    entries (the existence check, the idempotency record): at most 100 items, and at most
    4 MB with a full 400 KB kept for each reserved entry. Always at least one part."""
    max_items = MAX_TRANSACTION_ITEMS - reserved
    max_bytes = MAX_TRANSACTION_BYTES - reserved * MAX_ITEM_BYTES
    parts: list[list[dict[str, Any]]] = [[]]
    size = 0
    for entry in writes:
        one = _entry_size(entry)
        if parts[-1] and (len(parts[-1]) == max_items or size + one > max_bytes):
            parts.append([])
            size = 0
        parts[-1].append(entry)
        size += one
    return parts


def part_records(
    record: IdempotencyRecord | None, parts: Sequence[Sequence[dict[str, Any]]]
) -> list[IdempotencyRecord | None]:
    """The idempotency record of each part of a batch. One part keeps the request's record
    as it is. Several: part i's key is the request key (i = 0) or the key plus " #i" (a
    space never occurs in an Idempotency-Key header), its hash covers the request hash,
    i, the number of parts and the part's writes, so the same key with another body or
    another split is an IdempotencyConflict, never a silent skip."""
    if record is None:
        return [None] * len(parts)
    if len(parts) == 1:
        return [record]
    out: list[IdempotencyRecord | None] = []
    for i, part in enumerate(parts):
        digest = hashlib.sha256(
            f"{record.request_hash}\n{i}/{len(parts)}\n".encode()
            + json.dumps(part, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        key = record.key if i == 0 else f"{record.key} #{i}"
        out.append(IdempotencyRecord(key, digest, record.response))
    return out


def request_tokens(parts: int) -> list[str]:
    """The ClientRequestToken of each transaction of one request: a random request id and
    the part's index, hashed to DynamoDB's 36-character limit. Random, not a hash of the
    content: two identical requests are two writes, each counted."""
    request = uuid.uuid4().hex
    return [hashlib.sha256(f"{request}#{i}".encode()).hexdigest()[:36] for i in range(parts)]


def _exp_key(experiment_id: str) -> str:
    return f"EXP#{experiment_id}"


def _day_key(day: dt.date, variant: str) -> str:
    return f"DAY#{day.isoformat()}#{variant}"


class DynamoDBStore:
    """The Store protocol on DynamoDB (main table + idempotency table)."""

    name = "dynamodb"

    def __init__(
        self,
        table: str,
        *,
        idempotency_table: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: DynamoDBClient | None = None,
        retry_mode: Literal["standard", "adaptive"] = "standard",
        max_attempts: int = 5,
        read_timeout: float = 5.0,
        backoff_base: float = 0.05,
        idempotency_ttl: dt.timedelta = dt.timedelta(hours=24),
        page_size: int | None = None,
    ) -> None:
        self.table = table
        self.idempotency_table = idempotency_table or f"{table}-idempotency"
        self.region = region
        self.endpoint_url = endpoint_url
        self.retry_mode: Literal["standard", "adaptive"] = retry_mode
        self.max_attempts = max_attempts
        self.read_timeout = read_timeout
        self.backoff_base = backoff_base
        self.idempotency_ttl = idempotency_ttl
        self.page_size = page_size  # items per Query page; None = DynamoDB's 1 MB pages
        self._client: Any = client
        self._lock = threading.Lock()

    # the client and error mapping ------------------------------------------------------

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3

                    self._client = boto3.client(
                        "dynamodb",
                        region_name=self.region,
                        endpoint_url=self.endpoint_url,
                        config=client_config(
                            retry_mode=self.retry_mode,
                            max_attempts=self.max_attempts,
                            read_timeout=self.read_timeout,
                        ),
                    )
        return self._client

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One client call; busy, throttled and unreachable become StoreUnavailable."""
        from botocore.exceptions import BotoCoreError, ClientError

        method = getattr(self.client, operation)  # a bad configuration raises here, as is
        try:
            response: dict[str, Any] = method(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _BUSY_CODES:
                raise StoreUnavailable("dynamodb is throttling or unavailable") from None
            if code == "ResourceNotFoundException":
                raise StoreUnavailable("dynamodb table not found") from None
            if code in _HANDLED_CODES:
                raise
            raise StoreError(f"dynamodb refused the request ({code})") from exc
        except BotoCoreError:
            raise StoreUnavailable("dynamodb is unreachable") from None
        return response

    def _transact(self, items: list[dict[str, Any]], token: str) -> list[str] | None:
        """Run one transaction under its ClientRequestToken; None when it committed, else
        the cancellation reason codes. Conflicts and throttling inside the transaction, and
        the same token still in progress, are retried first (with the same token)."""
        from botocore.exceptions import ClientError

        _check_transaction(items)
        for attempt in range(1, self.max_attempts + 1):
            try:
                self._call("transact_write_items", TransactItems=items, ClientRequestToken=token)
                return None
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code == "TransactionInProgressException":
                    if attempt < self.max_attempts:
                        self._backoff(attempt)
                        continue
                    raise StoreUnavailable("dynamodb transaction stayed in progress") from None
                if code != "TransactionCanceledException":
                    raise
                reasons = [
                    str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons", [])
                ]
            if not _RETRY_REASONS.intersection(reasons) or "ConditionalCheckFailed" in reasons:
                return reasons
            if attempt < self.max_attempts:
                self._backoff(attempt)
        raise StoreUnavailable("dynamodb transaction kept conflicting")

    def _backoff(self, attempt: int) -> None:
        """Full-jitter exponential backoff (jitter only, not security: S311 waived)."""
        time.sleep(random.uniform(0, min(2.0, self.backoff_base * 2**attempt)))  # noqa: S311

    def _query(self, **kwargs: Any) -> Iterator[Item]:
        """Every item of a Query (or Scan with operation='scan'), page by page."""
        operation = kwargs.pop("operation", "query")
        if self.page_size is not None:
            kwargs["Limit"] = min(kwargs.get("Limit", self.page_size), self.page_size)
        while True:
            page = self._call(operation, **kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _batch_delete(self, table: str, keys: Sequence[Item]) -> None:
        for start in range(0, len(keys), MAX_BATCH_WRITE):
            requests = [
                {"DeleteRequest": {"Key": k}} for k in keys[start : start + MAX_BATCH_WRITE]
            ]
            pending: dict[str, Any] = {table: requests}
            for attempt in range(1, self.max_attempts + 1):
                unprocessed = self._call("batch_write_item", RequestItems=pending).get(
                    "UnprocessedItems", {}
                )
                if not unprocessed:
                    break
                pending = unprocessed
                if attempt == self.max_attempts:
                    raise StoreUnavailable("dynamodb left deletes unprocessed")
                self._backoff(attempt)

    def ping(self) -> None:
        self._call("describe_table", TableName=self.table)

    def close(self) -> None:
        """Clients hold no connections that need closing; kept for the protocol."""

    # experiments -----------------------------------------------------------------------

    @staticmethod
    def _meta_item(e: Experiment) -> Item:
        f = experiment_fields(e)
        item: Item = {
            tables.PK: _s(_exp_key(e.id)),
            tables.SK: _s("META"),
            tables.GSI1PK: _s(f"STATUS#{e.status}"),
            tables.GSI1SK: _s(f"{f['created_at']}#{e.id}"),
            "variants_declared": {"BOOL": e.variants_declared},
            "version": _n(e.version),
        }
        text = (
            "id",
            "name",
            "description",
            "status",
            "variants",
            "settings",
            "shipped_variant",
            "changes",
        )
        for name in (*text, "created_at", "updated_at"):
            item[name] = _s(f[name])
        return item

    @staticmethod
    def _experiment(item: Item) -> Experiment:
        """The META item's attributes, each unwrapped from its one type key (S, N, BOOL)."""
        return experiment_from_fields({k: next(iter(v.values())) for k, v in item.items()})

    def _get_meta(self, experiment_id: str) -> Item | None:
        """The experiment's META item; None when absent or a tombstone."""
        item = self._get_meta_item(experiment_id)
        return None if item is None or "deleting" in item else item

    def _get_meta_item(self, experiment_id: str) -> Item | None:
        response = self._call(
            "get_item",
            TableName=self.table,
            Key={tables.PK: _s(_exp_key(experiment_id)), tables.SK: _s("META")},
            ConsistentRead=True,
        )
        item: Item | None = response.get("Item")
        return item

    def create_experiment(self, experiment: Experiment) -> Experiment:
        """A tombstone first, then the sweep of whatever an interrupted delete left under
        the id, then the experiment in the tombstone's place: a re-created id starts empty.
        Conflict when the id is live, or another creator went live first."""
        from botocore.exceptions import ClientError

        item = self._meta_item(experiment)
        _check_item(item)
        pk = item[tables.PK]
        meta_key = {tables.PK: pk, tables.SK: _s("META")}
        found = self._get_meta_item(experiment.id)
        if found is not None and "deleting" not in found:
            raise Conflict(f"experiment {experiment.id!r} exists")
        try:
            if found is None:
                self._call(
                    "put_item",
                    TableName=self.table,
                    Item={**meta_key, "deleting": {"BOOL": True}},
                    ConditionExpression="attribute_not_exists(PK)",
                )
            self._sweep(pk)
            self._call(
                "put_item",
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_exists(deleting)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise Conflict(f"experiment {experiment.id!r} exists") from None
            raise
        return self._experiment(item)

    def get_experiment(self, experiment_id: str) -> Experiment:
        item = self._get_meta(experiment_id)
        if item is None:
            raise ExperimentNotFound(experiment_id)
        return self._experiment(item)

    def update_experiment(self, experiment: Experiment, expected_version: int) -> Experiment:
        from botocore.exceptions import ClientError

        item = self._meta_item(experiment)
        _check_item(item)
        names = (
            "name",
            "description",
            "status",
            "variants",
            "settings",
            "updated_at",
            "shipped_variant",
            "changes",
        )
        values: dict[str, Any] = {f":{n}": item[n] for n in names}
        values |= {
            ":declared": item["variants_declared"],
            ":gsi1pk": item[tables.GSI1PK],
            ":version": _n(expected_version + 1),
            ":expected": _n(expected_version),
        }
        try:
            response = self._call(
                "update_item",
                TableName=self.table,
                Key={tables.PK: item[tables.PK], tables.SK: item[tables.SK]},
                UpdateExpression="SET "
                + ", ".join(f"#{n} = :{n}" for n in names)
                + ", variants_declared = :declared, GSI1PK = :gsi1pk, version = :version",
                ConditionExpression=f"{LIVE} AND version = :expected",
                ExpressionAttributeNames={f"#{n}": n for n in names},
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            current = self._get_meta(experiment.id)
            found = None if current is None else int(current["version"]["N"])
            raise refused_update(experiment.id, expected_version, found) from None
        return self._experiment(response["Attributes"])

    def delete_experiment(self, experiment_id: str) -> None:
        """META becomes a tombstone (out of every read, listing and write), the experiment's
        items are swept, then the tombstone goes. Cut off part-way, the experiment stays
        gone, and the next delete or create of the id finishes the sweep."""
        from botocore.exceptions import ClientError

        pk = _s(_exp_key(experiment_id))
        meta_key = {tables.PK: pk, tables.SK: _s("META")}
        found = True
        try:
            self._call(
                "update_item",
                TableName=self.table,
                Key=meta_key,
                UpdateExpression="SET deleting = :yes REMOVE GSI1PK, GSI1SK",
                ConditionExpression=LIVE,
                ExpressionAttributeValues={":yes": {"BOOL": True}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            if self._get_meta_item(experiment_id) is None:
                raise ExperimentNotFound(experiment_id) from None
            found = False  # a tombstone: finish the delete it stands for
        try:
            self._sweep(pk)
            self._call(
                "delete_item",
                TableName=self.table,
                Key=meta_key,
                ConditionExpression="attribute_exists(deleting)",
            )
        except (ClientError, Conflict) as exc:
            if isinstance(exc, ClientError) and (
                exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException"
            ):
                raise
            # the id was created again meanwhile; what this delete removed is gone
        if not found:
            raise ExperimentNotFound(experiment_id)

    def _sweep(self, pk: dict[str, str]) -> None:
        """Delete every item of a tombstoned experiment but META, from both tables, in
        transactions that each check the tombstone is still there: once the id is created
        again, a late sweep deletes nothing of the new experiment (Conflict)."""
        for table in (self.table, self.idempotency_table):
            keys = [
                key
                for key in self._query(
                    TableName=table,
                    KeyConditionExpression="PK = :pk",
                    ExpressionAttributeValues={":pk": pk},
                    ProjectionExpression="PK, SK",
                    ConsistentRead=True,
                )
                if not (table == self.table and key[tables.SK]["S"] == "META")
            ]
            step = MAX_TRANSACTION_ITEMS - 1
            for start in range(0, len(keys), step):
                self._sweep_part(table, keys[start : start + step], pk)

    def _sweep_part(self, table: str, keys: Sequence[Item], pk: dict[str, str]) -> None:
        tombstone = {  # an Update that changes nothing, as the functions' roles may update
            "Update": {
                "TableName": self.table,
                "Key": {tables.PK: pk, tables.SK: _s("META")},
                "UpdateExpression": "SET deleting = :yes",
                "ConditionExpression": "attribute_exists(deleting)",
                "ExpressionAttributeValues": {":yes": {"BOOL": True}},
            }
        }
        deletes = [{"Delete": {"TableName": table, "Key": key}} for key in keys]
        reasons = self._transact([tombstone, *deletes], request_tokens(1)[0])
        if reasons is not None:
            raise Conflict("the experiment was created again during the sweep")

    def list_experiments(
        self,
        status: ExperimentStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
        *,
        query: str | None = None,
        newest_first: bool = False,
    ) -> Page[Experiment]:
        """One Query of the status index per status, merged. A `query` is matched here, on
        the items the index returns (DynamoDB's own `contains` would not ignore case): a
        search reads the index past the experiments it skips."""
        limit = page_limit(limit)
        wanted = search_query(query) if query else None
        after = None
        if cursor is not None:
            created, last_id = experiment_cursor(cursor)
            after = f"{ts(created)}#{last_id}"
        found: list[tuple[str, Item]] = []
        for one in (status,) if status is not None else STATUSES:
            condition = "GSI1PK = :s"
            values: dict[str, Any] = {":s": _s(f"STATUS#{one}")}
            if after is not None:
                condition += f" AND GSI1SK {'<' if newest_first else '>'} :after"
                values[":after"] = _s(after)
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": tables.STATUS_INDEX,
                "KeyConditionExpression": condition,
                "ExpressionAttributeValues": values,
                "ScanIndexForward": not newest_first,
            }
            if wanted is None:
                kwargs["Limit"] = limit + 1
            taken = 0
            for item in self._query(**kwargs):
                if wanted is not None and wanted not in search_text_of(
                    item["id"]["S"], item["name"]["S"]
                ):
                    continue
                found.append((item[tables.GSI1SK]["S"], item))
                taken += 1
                if taken > limit:
                    break
        found.sort(key=lambda pair: pair[0].encode(), reverse=newest_first)
        items = [self._experiment(item) for _, item in found[:limit]]
        return experiment_page(items, len(found) > limit)

    # daily metrics ---------------------------------------------------------------------

    def _row_write(self, pk: dict[str, str], row: DailyRow, mode: WriteMode) -> dict[str, Any]:
        key = {tables.PK: pk, tables.SK: _s(_day_key(row.date, row.variant_name))}
        if mode == "set":
            item: Item = {
                **key,
                "impressions": _n(row.impressions),
                "clicks": _n(row.clicks),
                "conversions": _n(row.conversions),
            }
            return {"Put": {"TableName": self.table, "Item": item}}
        # ADD is atomic; the condition keeps each total within 64 bits, like the SQL backends
        # (an existing day item always carries all three counts).
        return {
            "Update": {
                "TableName": self.table,
                "Key": key,
                "UpdateExpression": "ADD impressions :i, clicks :c, conversions :v",
                "ConditionExpression": (
                    "attribute_not_exists(PK) OR "
                    "(impressions <= :max_i AND clicks <= :max_c AND conversions <= :max_v)"
                ),
                "ExpressionAttributeValues": {
                    ":i": _n(row.impressions),
                    ":c": _n(row.clicks),
                    ":v": _n(row.conversions),
                    ":max_i": _n(MAX_COUNT - row.impressions),
                    ":max_c": _n(MAX_COUNT - row.clicks),
                    ":max_v": _n(MAX_COUNT - row.conversions),
                },
            }
        }

    def _idempotency_item(self, pk: dict[str, str], record: IdempotencyRecord) -> Item:
        expires = dt.datetime.now(dt.UTC) + self.idempotency_ttl
        return {
            tables.PK: pk,
            tables.SK: _s(f"KEY#{record.key}"),
            "request_hash": _s(record.request_hash),
            "response": _s(json.dumps(record.response)),
            tables.TTL_ATTRIBUTE: _n(int(expires.timestamp())),
        }

    def _record(self, pk: dict[str, str], record: IdempotencyRecord) -> Item | None:
        stored: Item | None = self._call(
            "get_item",
            TableName=self.idempotency_table,
            Key={tables.PK: pk, tables.SK: _s(f"KEY#{record.key}")},
            ConsistentRead=True,
        ).get("Item")
        return stored

    @staticmethod
    def _first_answer(record: IdempotencyRecord, stored: Item | None) -> dict[str, Any]:
        held = None if stored is None else (stored["request_hash"]["S"], stored["response"]["S"])
        return first_response(record, held)

    def _replay(self, pk: dict[str, str], record: IdempotencyRecord) -> dict[str, Any]:
        """After the record's conditional Put failed: the first response, or a conflict."""
        return self._first_answer(record, self._record(pk, record))

    def _done(self, pk: dict[str, str], record: IdempotencyRecord) -> dict[str, Any] | None:
        """The first response if the record is stored and live (not past its TTL), else None;
        IdempotencyConflict when it was stored for another body."""
        stored = self._record(pk, record)
        now = dt.datetime.now(dt.UTC).timestamp()
        if stored is None or int(stored[tables.TTL_ATTRIBUTE]["N"]) < now:
            return None
        return self._first_answer(record, stored)

    def write_daily(
        self,
        experiment_id: str,
        rows: Sequence[DailyRow],
        mode: WriteMode,
        idempotency: IdempotencyRecord | None = None,
        *,
        max_variants: int | None = None,
    ) -> dict[str, Any] | None:
        """One transaction per part of the batch (see Store.write_daily for what holds
        when there are several); every part is built and checked before the first runs.
        New variant names go on META with the first part, on the condition that META's
        version is the one read: a concurrent writer's names make it read again."""
        check_rows(rows)
        pk = _s(_exp_key(experiment_id))
        writes = [self._row_write(pk, row, mode) for row in rows]
        parts = split_writes(writes, reserved=1 if idempotency is None else 2)
        if len(parts) > 1 and idempotency is None and mode == "increment":
            raise IdempotencyKeyRequired(
                f"an increment of {len(rows)} rows takes {len(parts)} DynamoDB transactions; "
                "send an Idempotency-Key so that a retry cannot count rows twice "
                "(or write in set mode)"
            )
        records = part_records(idempotency, parts)
        for part, record in zip(parts, records, strict=True):
            _check_transaction(self._daily_transaction(pk, part, record))
        last = records[-1]
        if len(parts) > 1 and last is not None:
            # parts commit in order, by every caller: with the last one stored, all are
            done = self._done(pk, last)
            if done is not None:
                return done
        first: dict[str, Any] | None = None  # set when part 0 was stored before this call
        # writers adding variants to one experiment at once take turns on META's version
        rounds = VARIANT_ROUNDS * self.max_attempts
        tokens = request_tokens(len(parts) + rounds)
        for i, (part, record) in enumerate(zip(parts, records, strict=True)):
            for attempt in range(rounds):
                if attempt:
                    self._backoff(min(attempt, 5))
                names = self._variants_to_add(experiment_id, rows, max_variants) if i == 0 else None
                items = self._daily_transaction(pk, part, record, names)
                # a new token when part 0 is built again (its META update changed)
                reasons = self._transact(items, tokens[i if attempt == 0 else len(parts) + attempt])
                if names is None or reasons is None or reasons[0] != "ConditionalCheckFailed":
                    break
            else:
                raise StoreUnavailable("dynamodb variant writers kept conflicting")
            if reasons is None:
                continue
            if reasons[0] == "ConditionalCheckFailed":
                raise ExperimentNotFound(experiment_id)
            if record is not None and reasons[-1] == "ConditionalCheckFailed":
                replayed = self._replay(pk, record)  # IdempotencyConflict on another body
                first = replayed if i == 0 else first
                continue
            if "ConditionalCheckFailed" in reasons:
                raise InvalidMetrics("a count would leave the 64-bit integer range")
            raise StoreError("dynamodb refused the write")
        return first

    def _variants_to_add(
        self, experiment_id: str, rows: Sequence[DailyRow], max_variants: int | None
    ) -> tuple[str, int] | None:
        """META's variants with the batch's new names (as JSON) and the version read; None
        when the batch names none. ExperimentNotFound, TooManyVariants."""
        meta = self._get_meta(experiment_id)
        if meta is None:
            raise ExperimentNotFound(experiment_id)
        variants = with_new_variants(experiment_id, meta["variants"]["S"], rows, max_variants)
        return None if variants is None else (variants, int(meta["version"]["N"]))

    def _daily_transaction(
        self,
        pk: dict[str, str],
        writes: list[dict[str, Any]],
        record: IdempotencyRecord | None,
        variants: tuple[str, int] | None = None,
    ) -> list[dict[str, Any]]:
        """The experiment's data_version bump (its existence check; with `variants`, the
        new list of variants, on the condition that META is at the version read), the row
        writes, and the idempotency record (if any) last."""
        meta: dict[str, Any] = {
            "TableName": self.table,
            "Key": {tables.PK: pk, tables.SK: _s("META")},
            "UpdateExpression": "ADD data_version :one",
            "ConditionExpression": LIVE,
            "ExpressionAttributeValues": {":one": _n(1)},
        }
        if variants is not None:
            meta["UpdateExpression"] = "SET variants = :v, version = :next ADD data_version :one"
            meta["ConditionExpression"] = f"{LIVE} AND version = :seen"
            meta["ExpressionAttributeValues"] |= {
                ":v": _s(variants[0]),
                ":next": _n(variants[1] + 1),
                ":seen": _n(variants[1]),
            }
        items: list[dict[str, Any]] = [{"Update": meta}, *writes]
        if record is not None:
            now = int(dt.datetime.now(dt.UTC).timestamp())
            items.append(
                {
                    "Put": {
                        "TableName": self.idempotency_table,
                        "Item": self._idempotency_item(pk, record),
                        "ConditionExpression": "attribute_not_exists(PK) OR #ttl < :now",
                        "ExpressionAttributeNames": {"#ttl": tables.TTL_ATTRIBUTE},
                        "ExpressionAttributeValues": {":now": _n(now)},
                    }
                }
            )
        return items

    def read_daily(
        self, experiment_id: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[DailyRow]:
        low = f"DAY#{start.isoformat()}" if start else "DAY#"
        high = f"DAY#{end.isoformat()}$" if end else "DAY$"  # '$' sorts right after '#'
        items = self._query(
            TableName=self.table,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": _s(_exp_key(experiment_id)),
                ":low": _s(low),
                ":high": _s(high),
            },
            ConsistentRead=True,
        )
        # SK = DAY#<yyyy-mm-dd>#<variant>: the date and the name come from the key
        return [
            DailyRow(
                dt.date.fromisoformat(i[tables.SK]["S"][4:14]),
                i[tables.SK]["S"][15:],
                int(i["impressions"]["N"]),
                int(i["clicks"]["N"]),
                int(i["conversions"]["N"]),
            )
            for i in items
        ]

    def latest_day(self, experiment_id: str) -> dt.date | None:
        # SK = DAY#<yyyy-mm-dd>#<variant>: the last DAY# key, read backwards, holds the date
        for item in self._query(
            TableName=self.table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :day)",
            ExpressionAttributeValues={":pk": _s(_exp_key(experiment_id)), ":day": _s("DAY#")},
            ScanIndexForward=False,
            ConsistentRead=True,
            Limit=1,
        ):
            return dt.date.fromisoformat(item[tables.SK]["S"][4:14])
        return None

    # snapshots -------------------------------------------------------------------------

    def mark_snapshot_state(self, experiment_id: str, state: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self._call(
                "update_item",
                TableName=self.table,
                Key={tables.PK: _s(_exp_key(experiment_id)), tables.SK: _s("META")},
                UpdateExpression="SET snapshot_state = :state",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":state": _s(state)},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise ExperimentNotFound(experiment_id) from None
            raise

    def write_snapshot(self, snapshot: Snapshot) -> bool:
        """Compare with the newest snapshot, and set: META names the newest (its sort key
        and fingerprint); the transaction stores the snapshot only if META still names the
        newest this call read, and moves META's names when the snapshot is the newer.
        Snapshots sort by SK = ALLOC#<computed_at>#<fingerprint>#<random>: newest by time,
        then by fingerprint, as in the SQL stores."""
        f = snapshot_fields(snapshot)
        pk = _s(_exp_key(snapshot.experiment_id))
        meta_key = {tables.PK: pk, tables.SK: _s("META")}
        sk = f"ALLOC#{f['computed_at']}#{snapshot.data_fingerprint}#{uuid.uuid4().hex[:12]}"
        fields = {n: _s(v) for n, v in f.items() if v is not None}  # latest_day may be None
        item: Item = {tables.PK: pk, tables.SK: _s(sk), **fields}
        for _ in range(self.max_attempts):
            meta = self._get_meta(snapshot.experiment_id)
            if meta is None:
                raise ExperimentNotFound(snapshot.experiment_id)
            newest, newest_fp = self._newest_snapshot(pk, meta)
            if newest_fp == snapshot.data_fingerprint:
                return False
            values: dict[str, Any] = {}
            if "newest_snapshot" not in meta:  # (set here, by the first snapshot written)
                condition = f"{LIVE} AND attribute_not_exists(newest_snapshot)"
            else:
                condition = f"{LIVE} AND newest_snapshot = :seen"
                values[":seen"] = meta["newest_snapshot"]
            guard: dict[str, Any] = {"TableName": self.table, "Key": meta_key}
            guard["ConditionExpression"] = condition
            if newest is None or sk > newest:  # the newest now: it names the leader
                leader = leader_json(leader_of(snapshot.p_best, snapshot.totals))
                values |= {":sk": _s(sk), ":fp": _s(snapshot.data_fingerprint)}
                values[":leader"] = _s(leader)
                guard["UpdateExpression"] = (
                    "SET newest_snapshot = :sk, latest_fingerprint = :fp, leader = :leader"
                )
            else:  # an older snapshot: META stays (an Update, not a ConditionCheck: no new IAM)
                values[":fp"] = meta["latest_fingerprint"]
                guard["UpdateExpression"] = "SET latest_fingerprint = :fp"
            guard["ExpressionAttributeValues"] = values
            put = {"Put": {"TableName": self.table, "Item": item}}
            reasons = self._transact([{"Update": guard}, put], request_tokens(1)[0])
            if reasons is None:
                return True
            if reasons[0] != "ConditionalCheckFailed":
                raise StoreError("dynamodb refused the snapshot")
            # another writer moved the newest snapshot (or the experiment went): read again
        raise StoreUnavailable("dynamodb snapshot writers kept conflicting")

    def _newest_snapshot(self, pk: dict[str, str], meta: Item) -> tuple[str | None, str | None]:
        """The sort key and fingerprint of the newest snapshot, from META (or, for an
        experiment whose META predates `newest_snapshot`, from its snapshots)."""
        if "newest_snapshot" in meta:
            return meta["newest_snapshot"]["S"], meta["latest_fingerprint"]["S"]
        if "latest_fingerprint" not in meta:
            return None, None
        for found in self._query(
            TableName=self.table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :alloc)",
            ExpressionAttributeValues={":pk": pk, ":alloc": _s("ALLOC#")},
            ScanIndexForward=False,
            ConsistentRead=True,
            Limit=1,
        ):
            return found[tables.SK]["S"], found["data_fingerprint"]["S"]
        return None, None

    def latest_snapshot(self, experiment_id: str) -> Snapshot | None:
        page = self.list_snapshots(experiment_id, limit=1)
        return page.items[0] if page.items else None

    def list_snapshots(
        self,
        experiment_id: str,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Snapshot]:
        limit = page_limit(limit)
        pk = _s(_exp_key(experiment_id))
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":pk": pk,
                ":low": _s(f"ALLOC#{ts(start)}" if start else "ALLOC#"),
                ":high": _s(f"ALLOC#{ts(end)}$" if end else "ALLOC$"),
            },
            "ScanIndexForward": False,
            "ConsistentRead": True,
            "Limit": limit + 1,
        }
        if cursor is not None:
            (sk,) = decode_cursor(cursor, (str,))
            if not sk.startswith("ALLOC#"):
                raise InvalidCursor("malformed cursor")
            kwargs["ExclusiveStartKey"] = {tables.PK: pk, tables.SK: _s(sk)}
        found: list[Item] = []
        for item in self._query(**kwargs):
            found.append(item)
            if len(found) > limit:
                break
        items = [
            snapshot_from_fields(
                {k: v["S"] for k, v in i.items() if k not in (tables.PK, tables.SK)}
            )
            for i in found[:limit]
        ]
        next_cursor = (
            encode_cursor(found[limit - 1][tables.SK]["S"]) if len(found) > limit else None
        )
        return Page(items, next_cursor)

    def reset(self) -> None:
        for table in (self.table, self.idempotency_table):
            keys = list(
                self._query(operation="scan", TableName=table, ProjectionExpression="PK, SK")
            )
            self._batch_delete(table, keys)
