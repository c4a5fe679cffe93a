"""Line grammars of OpenStack logs: oslo.log heads, contexts, access lines, syslog."""

from __future__ import annotations

import re
from typing import Final

# oslo.log: "<date> <time>.<ms> [<pid>] <LEVEL> <logger> [<context>] <message>".
# The pid is missing in devstack's console format; the context is "[-]",
# "[req-<uuid> None]", Kilo's six tokens, Pike's seven or today's eight; never a
# quoted list (oslo.messaging's remote traceback on a traceback line of its own).
# Only the head: the message is the rest of the line. Possessive quantifiers,
# as nothing after them could match what they gave back, spare the backtracking.
OSLO: Final = re.compile(
    r"(?P<date>\d{4}-\d\d-\d\d)[ T](?P<clock>\d\d:\d\d:\d\d(?:[.,]\d++)?)"
    r"(?: (?P<pid>\d++))? (?P<level>[A-Z]++) (?P<logger>\S++)"
    r"(?: \[(?P<ctx>(?!u?['\"])[^\]]*+)\])? ?"
)

# syslog and journald: "Mar 28 12:20:43.570064 host prog[pid]: text"
SYSLOG: Final = re.compile(
    r"(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?) (?P<host>\S+) "
    r"(?P<prog>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: (?P<msg>.*)"
)

# The oslo.log part of a syslog message: the time and pid are syslog's.
OSLO_IN_SYSLOG: Final = re.compile(
    r"(?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \d+ )?"
    r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL|TRACE|AUDIT) (?P<logger>\S+)"
    r"(?: \[(?P<ctx>(?!u?['\"])[^\]]*)\])? ?(?P<msg>.*)",
    re.DOTALL,  # journald and rsyslog turn a traceback's newlines into "#012"
)

# wsgi access line: 10.0.0.1 "GET /v2.1/servers HTTP/1.1" status: 200 len: 1893 time: 0.24,
# the whole message (matched from its start). Behind a proxy eventlet writes the
# X-Forwarded-For addresses, then the proxy's: "10.0.0.1,10.0.0.2 ..."; the client
# is the first.
ACCESS: Final = re.compile(
    r"(?P<client>[0-9a-fA-F.:]+|-)(?:,[0-9a-fA-F.:]*)* \"(?P<method>[A-Z]+) (?P<path>\S+)"
    r"(?: HTTP/[\d.]+)?\" "
    r"status: (?P<status>\d{3})\s+len: (?P<len>\d+)(?:\s+microversion: \S+)?"
    r"\s+time: (?P<time>\d+(?:\.\d+)?)"
)

# DEBUG lines end with "<function> <path>:<line>" (oslo.log logging_debug_format_suffix).
FUNCTION: Final = re.compile(r"[\w<>.]+")

INSTANCE: Final = re.compile(r"\[instance: (?P<uuid>[0-9a-f-]{36})\] ?")

# The last line of a traceback: "module.ErrorType: message" or "ErrorType".
EXCEPTION: Final = re.compile(r"(?P<type>[A-Za-z_][\w.]*)(?:: ?(?P<msg>.*))?$")

MONTHS: Final = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
