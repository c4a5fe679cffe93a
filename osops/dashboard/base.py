"""The dashboard exporter contract: one definition in, one tool's format out."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, ClassVar

from osops.dashboard.model import Dashboard
from osops.options import Argument


class Exporter(abc.ABC):
    """Turns a :class:`~osops.dashboard.model.Dashboard` into one tool's format.

    Override :meth:`export`; ``osops dashboard export`` writes what it returns
    atomically, so an exporter never touches files itself.
    """

    #: Options, given as ``--option KEY=VALUE``.
    arguments: ClassVar[tuple[Argument, ...]] = ()
    #: File name suffix of the output, e.g. ".json", ".ndjson", ".html".
    suffix: ClassVar[str] = ".json"
    #: Media type of the output.
    media_type: ClassVar[str] = "application/json"

    def __init__(self, options: Mapping[str, Any]) -> None:
        """Keep the options; a constructor does no I/O.

        :param options: declared argument values by ``Argument.dest``
        """
        self.options = options

    @abc.abstractmethod
    def export(self, dashboard: Dashboard) -> str:
        """Render one dashboard.

        :param dashboard: a validated definition
        :returns: the whole document in this tool's format
        :raises osops.exceptions.DashboardError: something cannot be expressed
        """
