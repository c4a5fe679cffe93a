"""The opensearch and elasticsearch sinks: the official clients' bulk API, idempotent ids."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

from osops.exceptions import SinkError
from osops.log.base import Sink
from osops.log.record import LogRecord
from osops.options import Argument

ARGUMENTS = (
    Argument(
        "hosts",
        "Node URL, e.g. https://search1.example.org:9200; repeatable: batches go round "
        "robin over the nodes (in random order), a node that fails is left out for a while "
        "and the batch goes to the next.",
        repeatable=True,
        required=True,
    ),
    Argument("index", "Index (or data stream) to write to.", default="osops-logs"),
    Argument("username", "User for basic authentication."),
    Argument("password", "Password for basic authentication.", secret=True),
    Argument("cacert", "CA bundle to verify TLS against."),
    Argument("insecure", "Do not verify TLS certificates.", type="bool", default=False),
    Argument(
        "retries",
        "Retries of a batch on 429 and 5xx, with exponential backoff.",
        type="int",
        default=5,
        min=0,
        max=100,
    ),
    Argument("timeout", "Seconds per request.", type="float", default=30.0, min=0.1, max=3600),
)
_RETRY_ON = (429, 500, 502, 503, 504)


class BulkSink(Sink, abc.ABC):
    """Shared by both search sinks: documents keyed by file, offset and content, so
    shipping the same lines again overwrites instead of duplicating; override client().

    Several ``hosts`` are the product client's own node pool: round robin, a node
    refusing connections or resetting them marked dead (opensearch-py: 60 s,
    doubling; elasticsearch-py: 1 s doubling up to 30 s) and the request sent to
    the next; with all of them dead the batch is refused and the shipper retries
    it (state unchanged) until one answers.
    """

    arguments = ARGUMENTS

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self._client: Any = None

    @abc.abstractmethod
    def client(self) -> Any:
        """The official client for this product, with retries on 429 and 5xx configured."""

    @abc.abstractmethod
    def helpers(self) -> Any:
        """The product client's ``helpers`` module (its ``bulk`` retries 429s)."""

    def bulk(self, client: Any, actions: list[dict[str, Any]]) -> tuple[int, list[Any]]:
        """Send actions with the product's bulk helper; (successes, errors)."""
        ok, errors = self.helpers().bulk(
            client,
            actions,
            max_retries=self.options["retries"],
            initial_backoff=1,
            raise_on_error=False,
        )
        return int(ok), list(errors) if not isinstance(errors, int) else []

    def write(self, records: Sequence[LogRecord]) -> None:
        if self._client is None:
            self._client = self.client()
        actions = [
            {
                "_op_type": "index",
                "_index": self.options["index"],
                "_id": r.identity(),
                "_source": r.to_dict(),
            }
            for r in records
        ]
        try:
            ok, errors = self.bulk(self._client, actions)
        except Exception as exc:  # client, transport and bulk errors all mean "not accepted"
            raise SinkError(f"{self._where()}: {_reason(exc)}") from None
        if errors or ok != len(actions):
            raise SinkError(
                f"{self._where()}: {len(actions) - ok} of {len(actions)} documents were refused"
            )

    def _where(self) -> str:
        return f"{type(self).__name__.lower()} at {', '.join(self.options['hosts'])}"

    def _common(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "hosts": list(self.options["hosts"]),
            "max_retries": self.options["retries"],
            "retry_on_status": _RETRY_ON,
            "retry_on_timeout": True,
            "verify_certs": not self.options["insecure"],
        }
        if self.options["cacert"]:
            kwargs["ca_certs"] = self.options["cacert"]
        if self.options["username"]:
            kwargs["http_auth" if self._http_auth else "basic_auth"] = (
                self.options["username"],
                self.options["password"] or "",
            )
        return kwargs

    _http_auth = False


class Opensearch(BulkSink):
    """Index records into OpenSearch through opensearch-py's bulk helper."""

    _http_auth = True

    def client(self) -> Any:
        import opensearchpy

        # Shuffled as elasticsearch-py does by default: many shippers, not all on the first node.
        return opensearchpy.OpenSearch(
            timeout=self.options["timeout"], randomize_hosts=True, **self._common()
        )

    def helpers(self) -> Any:
        from opensearchpy import helpers

        return helpers


class Elasticsearch(BulkSink):
    """Index records into Elasticsearch through elasticsearch-py's bulk helper."""

    def client(self) -> Any:
        import elasticsearch

        return elasticsearch.Elasticsearch(
            request_timeout=self.options["timeout"], **self._common()
        )

    def helpers(self) -> Any:
        from elasticsearch import helpers

        return helpers


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]
