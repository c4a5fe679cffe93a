"""Typed errors that plugins raise and only the app maps to exit codes."""


class OsopsError(Exception):
    """Base of every error osops reports as one line instead of a traceback."""


class UsageError(OsopsError):
    """A wrong option, argument or configuration value given by the user."""


class PluginNotFound(OsopsError):
    """No installed plugin of that kind has that name."""


class PluginLoadError(OsopsError):
    """A plugin is installed but cannot be imported or breaks its contract.

    :param reason: what is wrong and the fix, without naming the plugin (for a
        list that names it already); the message by default
    """

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = message if reason is None else reason


class RequirementMissing(PluginLoadError):
    """A requirement of the plugin's distribution is not installed (``missing: ...``)."""


class CheckError(OsopsError):
    """A check could not find out the state of what it watches (UNKNOWN)."""


class ServiceDown(OsopsError):
    """The watched service refused, failed (5xx) or is otherwise down: CRITICAL."""


class LogError(OsopsError):
    """A log file, record or sink could not be read, processed or written."""


class SinkError(LogError):
    """A sink did not accept a batch; the batch must be sent again."""


class DashboardError(OsopsError):
    """A dashboard definition is invalid or cannot be exported."""
