"""Configuration as the services read it: oslo.config files (its parser, its order), policies."""

from __future__ import annotations

import glob
import os

from osops.exceptions import UsageError


class Setting:
    """An option set in the files: where, and every value given, in reading order.

    :param section: the section as oslo.config looks it up ("DEFAULT", else lower case)
    :param option: the option's name as written
    :param values: each value given (a file may repeat a multi-valued option)
    :param files: the files that set it, in reading order
    """

    __slots__ = ("section", "option", "values", "files")

    def __init__(self, section: str, option: str) -> None:
        self.section = section
        self.option = option
        self.values: list[str] = []
        self.files: list[str] = []

    @property
    def value(self) -> str:
        """The value in effect for a single-valued option: the last one read."""
        return self.values[-1]


def files_of(paths: list[str]) -> list[str]:
    """The files to read, in oslo.config's order.

    Files as given; a directory (``nova.conf.d``) stands for its ``*.conf``
    files sorted by name, as ``--config-dir`` does.

    :raises UsageError: a path that does not exist
    """
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found.extend(sorted(glob.glob(os.path.join(path, "*.conf"))))
        elif os.path.exists(path):
            found.append(path)
        else:
            raise UsageError(f"{path}: no such file or directory")
    return found


def read(paths: list[str]) -> dict[tuple[str, str], Setting]:
    """Every option the files set, by (section, option), later files over earlier.

    :raises UsageError: a file that cannot be read or parsed, naming its line
    """
    from oslo_config import cfg

    settings: dict[tuple[str, str], Setting] = {}
    for path in files_of(paths):
        sections: dict[str, dict[str, list[str]]] = {}
        normalized: dict[str, dict[str, list[str]]] = {}
        parser = cfg.ConfigParser(path, sections)
        parser._add_normalized(normalized)
        try:
            parser.parse()
        except cfg.ParseError as exc:
            raise UsageError(f"{path}: {exc.msg} at line {exc.lineno}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: {getattr(exc, 'strerror', None) or exc}") from None
        for section, options in normalized.items():
            for option, values in options.items():
                setting = settings.setdefault((section, option), Setting(section, option))
                setting.values.extend(values)
                setting.files.append(path)
    return settings


def read_policy(path: str) -> dict[str, str]:
    """A policy file's rules: name -> check string.

    :raises UsageError: a file that cannot be read, or is no policy file
    """
    import yaml

    try:
        with open(path) as fh:
            rules = yaml.safe_load(fh)
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not a policy file ({str(exc).splitlines()[0]})") from None
    if rules is None:
        return {}
    if not isinstance(rules, dict):
        raise UsageError(f"{path}: not a policy file (expected rule names and check strings)")
    return {str(k): v for k, v in rules.items()}
