"""oslo.log request contexts into fields, whichever release wrote them, remembered.

Part of the parse state machine (:mod:`osops_logging.lines`), compiled by mypyc
with it.
"""

from __future__ import annotations

from typing import Any, Final

from osops.log.record import FIELDS
from osops_logging.names import GLOBAL_REQUEST_ID, REQUEST_ID

# Rocky on: the context's tokens, in order (oslo.context's logging_user_identity_format).
_CONTEXT: Final = tuple(
    FIELDS[a]
    for a in (
        "global_request_id",
        "request_id",
        "user_id",
        "project_id",
        "domain_id",
        "system_scope",
        "user_domain_id",
        "project_domain_id",
    )
)
# Pike to Queens: the global request id first, no system scope yet.
_PIKE_CONTEXT: Final = tuple(name for name in _CONTEXT if name != FIELDS["system_scope"])
# Kilo to Ocata: no global request id either.
_KILO_CONTEXT: Final = _PIKE_CONTEXT[1:]
#: Entries each memo keeps before it starts again.
CACHE: Final = 4096
# Context tokens that mean "not set".
_UNSET: Final = frozenset({"-", "None", ""})


class Contexts:
    """The request contexts of one file's lines, and a memo of the identities in them."""

    def __init__(self) -> None:
        self._contexts: dict[str, dict[str, str]] = {}
        # A context's identity (all but its request ids) by its text, per shape.
        self._identities: dict[str, dict[str, str]] = {}
        self._kilo_identities: dict[str, dict[str, str]] = {}

    def apply(self, fields: dict[str, Any], ctx: str) -> None:
        """Set the fields of a request context, as :meth:`fields` gives them.

        Real logs carry a new request id on nearly every line, and the same
        few identities (user, project, domains) after it: the fields of the
        identity are cached, keyed by its text, and the ids set apart, in the
        order :meth:`fields` gives them.
        """
        parts = ctx.split(None, 2)  # the rest keeps its inner spacing: its own key
        count = len(parts)
        if count >= 2:
            first: str = parts[0]
            second: str = parts[1]
            identity: str
            cached: dict[str, str] | None
            if second.startswith("req-"):  # Pike on: global request id, request id
                identity = parts[2] if count == 3 else ""
                cached = self._identities.get(identity)
                if cached is None:
                    cached = self._identity(self._identities, identity, ctx)
                if first not in _UNSET:
                    fields[GLOBAL_REQUEST_ID] = first
                fields[REQUEST_ID] = second
                fields.update(cached)
                return
            if first.startswith("req-"):  # Kilo to Ocata: the request id first
                identity = second if count == 2 else f"{second} {parts[2]}"
                cached = self._kilo_identities.get(identity)
                if cached is None:
                    cached = self._identity(self._kilo_identities, identity, ctx)
                fields[REQUEST_ID] = first
                fields.update(cached)
                return
        context = self._contexts.get(ctx)  # any other shape: cached whole
        if context is None:
            if len(self._contexts) >= CACHE:
                self._contexts.clear()
            context = self._contexts[ctx] = self.fields(ctx)
        fields.update(context)

    def _identity(self, cache: dict[str, dict[str, str]], key: str, ctx: str) -> dict[str, str]:
        """The fields of a context but its request ids, cached under ``key``."""
        if len(cache) >= CACHE:
            cache.clear()
        found = cache[key] = {
            name: value
            for name, value in self.fields(ctx).items()
            if name != REQUEST_ID and name != GLOBAL_REQUEST_ID
        }
        return found

    @staticmethod
    def fields(text: str) -> dict[str, str]:
        """Fields of an oslo.log request context, whichever release wrote it.

        ``-``, ``None`` and empty tokens mean "not set".
        """
        tokens = text.split()
        if not tokens or tokens == ["-"]:
            return {}
        if tokens[0].startswith("req-") and not (len(tokens) > 1 and tokens[1].startswith("req-")):
            names = _KILO_CONTEXT  # Kilo to Ocata: request user tenant [domain ...]
        elif len(tokens) == len(_PIKE_CONTEXT):
            names = _PIKE_CONTEXT  # Pike to Queens: global_request_id request_id, no scope
        else:
            names = _CONTEXT  # Rocky on: global_request_id request_id user ... system_scope
        return {
            name: token for name, token in zip(names, tokens, strict=False) if token not in _UNSET
        }


class Numbers(dict[str, int]):
    """Digit strings to their ints, remembered: a file holds few pids, on every line."""

    def __missing__(self, text: str) -> int:
        if len(self) >= CACHE:
            self.clear()
        number = self[text] = int(text)
        return number
