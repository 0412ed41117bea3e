"""Strict readers: YAML, JSON and TOML text to plain data (dict, list, str, int, float, bool).

Nothing in a document is ever constructed as an object or evaluated.  YAML is read from the
parser's event stream by a small builder of our own (no PyYAML constructor runs): explicit
tags (``!!python/object/apply:os.system``), anchors and aliases are rejected, and plain
scalars follow YAML 1.2's core schema, so ``yes``, ``on``, ``1:20``, ``010`` and
``2001-01-01`` stay text instead of becoming booleans, sexagesimal or octal numbers and
dates.  In every format duplicate keys are rejected, NaN and Infinity too, integer
literals are at most 30 digits long and nesting is at most 32 levels deep.

Sizes: a document is at most :data:`MAX_FILE_BYTES` (50 MB) of UTF-8, whether it comes as
text or as a file (the CLI reads files); a dict given directly is held to the values limit.
Values (every mapping, list and scalar) are capped so that the work stays bounded: JSON and
dicts at :data:`MAX_NODES` (2,000,000; in JSON also its commas plus colons, counted before
parsing; the Keras JSON of NASNetLarge, 1.03 MB, has 61,795 values and 87,419 of those),
YAML at :data:`MAX_YAML_NODES` (200,000: each YAML event is a Python object).  TOML, which
only hand-written spec files use and Python's ``tomllib`` reads at about 1 MB/s, is capped at
:data:`MAX_TOML_BYTES` (2 MB) and :data:`MAX_TOML_VALUES` lines plus commas.  Measured on
50 MB hostile inputs, every format refuses or parses within seconds.  Errors name the file
and, where the parser knows it, the line.

>>> parse_yaml("layers: [{Conv2D: {filters: 32, use_bias: yes}}]", "spec.yaml")
{'layers': [{'Conv2D': {'filters': 32, 'use_bias': 'yes'}}]}
>>> try:
...     parse_yaml("a: !!python/object/apply:os.system [ls]", "spec.yaml")
... except SpecError as err:
...     print(err.code, "|", err)  # doctest: +ELLIPSIS
yaml_tag | spec.yaml: line 1: the YAML tag '!!python/object/apply:os.system' is not accepted; ...
>>> parse_json('{"a": 1, "a": 2}', "model.json")
Traceback (most recent call last):
convsym.errors.SpecError: model.json: duplicate key 'a'
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
from typing import Any, NoReturn

from convsym.errors import SpecError, UsageError

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_INT_DIGITS",
    "MAX_NODES",
    "MAX_TOML_BYTES",
    "MAX_TOML_VALUES",
    "MAX_YAML_NODES",
    "check_nodes",
    "parse_json",
    "parse_toml",
    "parse_yaml",
    "read_document",
    "read_text",
]

MAX_FILE_BYTES = 50_000_000
MAX_DEPTH = 32
MAX_INT_DIGITS = 30
MAX_NODES = 2_000_000
MAX_YAML_NODES = 200_000
MAX_TOML_BYTES = 2_000_000
MAX_TOML_VALUES = 100_000
_SLOW_REPARSE_LIMIT = 2_000_000  # characters the pure-Python YAML parser re-reads after an error

_YAML_INT = re.compile(r"[-+]?[0-9]+")
_YAML_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
                         r"|[-+]?[0-9]+[eE][-+]?[0-9]+")
_YAML_NOT_FINITE = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_YAML_TRUE = frozenset({"true", "True", "TRUE"})
_YAML_FALSE = frozenset({"false", "False", "FALSE"})
_YAML_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_TAG_PREFIX = "tag:yaml.org,2002:"


def read_bytes(path: str, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of a regular file (a FIFO, device or directory is refused).

    The file is opened without blocking and checked with ``fstat`` on the open descriptor,
    so a FIFO cannot stall the read and cannot be swapped in between check and read.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as err:
        raise SpecError(f"cannot read the file: {err.strerror or err}", source=path,
                        code="unreadable") from None
    except ValueError:  # a NUL character or a lone surrogate in the path
        raise SpecError("cannot read the file: the path is not a valid file name",
                        source=repr(path), code="unreadable") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) \
                else "not a regular file"
            raise SpecError(f"cannot read the file: it is {kind} (only regular files are read)",
                            source=path, code="unreadable")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit + 1)
    except OSError as err:
        raise SpecError(f"cannot read the file: {err.strerror or err}", source=path,
                        code="unreadable") from None
    finally:
        os.close(fd)


def write_file(path: str, data: str | bytes) -> None:
    """Write ``data`` to ``path`` (created or emptied first; text as UTF-8, newlines as given).

    The file is opened without blocking: a FIFO that no process reads is refused at once
    (opening it to write would wait for a reader forever); one with a reader, a device such
    as ``/dev/null`` and a regular file are written.  A failure is one line with code
    ``unwritable``.

    >>> import tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "fifo")
    >>> os.mkfifo(path)
    >>> write_file(path, "text")
    Traceback (most recent call last):
    convsym.errors.UsageError: cannot write .../fifo: it is a FIFO that no process reads
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as err:
        reason = "it is a FIFO that no process reads" if err.errno == errno.ENXIO else \
            err.strerror or str(err)
        raise UsageError(f"cannot write {path}: {reason}", code="unwritable") from None
    except ValueError:  # a NUL character or a lone surrogate in the path
        raise UsageError(f"cannot write {path!r}: the path is not a valid file name",
                         code="unwritable") from None
    try:
        os.set_blocking(fd, True)  # a reader is there (or a file): write all of it
        with os.fdopen(fd, "wb", closefd=False) as handle:
            handle.write(raw)
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}",
                         code="unwritable") from None
    finally:
        os.close(fd)


def read_text(path: str) -> str:
    """The UTF-8 text of a file, at most :data:`MAX_FILE_BYTES` bytes (read no further)."""
    raw = read_bytes(path, MAX_FILE_BYTES)
    if len(raw) > MAX_FILE_BYTES:
        raise SpecError(f"the file is larger than the limit of {MAX_FILE_BYTES:,} bytes",
                        source=path, code="too_large")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise SpecError(f"the file is not UTF-8 text (byte {err.start})", source=path,
                        code="not_text") from None


def read_document(path: str | os.PathLike[str]) -> Any:
    """Read a YAML, JSON or TOML file (by its extension; YAML otherwise) into plain data."""
    name = os.fspath(path)
    if not isinstance(name, str):
        raise SpecError(f"the path {name!r} is not text", code="unreadable")
    text = read_text(name)
    lower = name.lower()
    if lower.endswith(".json"):
        return parse_json(text, name)
    if lower.endswith(".toml"):
        return parse_toml(text, name)
    return parse_yaml(text, name)


# --- JSON -----------------------------------------------------------------------------------


def parse_json(text: str, origin: str) -> Any:
    """Strict JSON: duplicate keys, NaN and Infinity, and over-long integers rejected."""
    _check_length(text, origin)
    if text.count(",") + text.count(":") > MAX_NODES:  # a bound on the values, at C speed
        _too_many(origin, MAX_NODES)
    pairs_seen = 0

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal pairs_seen
        pairs_seen += len(items) + 1
        if pairs_seen > MAX_NODES:  # stop the parse early: this hook runs per object
            _too_many(origin, MAX_NODES)
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise SpecError(f"duplicate key {_short(key)}", source=origin,
                                code="duplicate_key")
            out[key] = value
        return out

    def constant(token: str) -> Any:
        raise SpecError(f"{token} is not a number convsym accepts (NaN and Infinity are "
                        "rejected)", source=origin, code="not_finite")

    try:
        # integers are checked after the parse (check_nodes): a parse_int hook, one Python
        # call per integer, made 50 MB of integers take 30 s
        value = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as err:
        raise SpecError(f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}",
                        source=origin, code="bad_json") from None
    except RecursionError:
        _too_deep(origin, "")
    except ValueError as err:  # int() of a literal beyond Python's 4300-digit limit
        if "digits" not in str(err):
            raise
        _long_integer(origin, "", None)
    return check_nodes(value, origin)


# --- TOML -----------------------------------------------------------------------------------


def parse_toml(text: str, origin: str) -> Any:
    """TOML via the standard library (``tomllib``), which rejects duplicate keys itself."""
    # why: tomllib loads only for a TOML document
    import tomllib

    _check_length(text, origin)
    if len(text) > MAX_TOML_BYTES:  # tomllib is pure Python: about 1 MB/s
        raise SpecError(f"the TOML text is longer than the limit of {MAX_TOML_BYTES:,} "
                        "characters (write large documents as JSON or YAML)", source=origin,
                        code="too_large")
    if text.count("\n") + text.count(",") > MAX_TOML_VALUES:  # a bound on its values
        _too_many(origin, MAX_TOML_VALUES)

    def number(token: str) -> float:
        value = float(token)
        if value != value or value in (float("inf"), float("-inf")):
            raise SpecError(f"{token} is not a number convsym accepts (NaN and Infinity are "
                            "rejected)", source=origin, code="not_finite")
        return value

    try:
        return check_nodes(tomllib.loads(text, parse_float=number), origin)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"invalid TOML: {err}", source=origin, code="bad_toml") from None
    except RecursionError:
        _too_deep(origin, "")
    except ValueError as err:  # int() of a literal beyond Python's 4300-digit limit
        if "digits" not in str(err):
            raise
        _long_integer(origin, "", None)


# --- YAML -----------------------------------------------------------------------------------


def parse_yaml(text: str, origin: str) -> Any:
    """Safe YAML from the event stream: no tags, anchors, aliases or duplicate keys."""
    # why: PyYAML loads only for a YAML document
    import yaml

    _check_length(text, origin)
    fast = getattr(yaml, "CSafeLoader", None)  # libyaml's parser is 20x faster
    try:
        if fast is not None:
            try:
                return _Builder(origin).build(yaml.parse(text, Loader=fast))
            except yaml.YAMLError as err:
                # libyaml has limits of its own (PyYAML 6.0.4's stops at about 1,000 nested
                # levels, before our depth check sees them). Errors are rare, so the document
                # is read again with the pure-Python parser, which has none: the answer (and
                # its code, e.g. too_deep) then does not depend on the libyaml release.
                if len(text) > _SLOW_REPARSE_LIMIT:
                    if "nesting" in str(getattr(err, "problem", "") or err):
                        _too_deep(origin, "")
                    raise
        return _Builder(origin).build(yaml.parse(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise SpecError(f"invalid YAML{where}: {problem}", source=origin,
                        code="bad_yaml") from None


class _Builder:
    """Plain data from YAML events, with a stack instead of recursion."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.nodes = 0

    def fail(self, event: Any, message: str, code: str) -> NoReturn:
        mark = getattr(event, "start_mark", None)
        line = f"line {mark.line + 1}: " if mark is not None else ""
        raise SpecError(f"{line}{message}", source=self.origin, code=code)

    def check(self, event: Any) -> None:
        # why: PyYAML loads only for a YAML document
        import yaml

        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            self.fail(event, "YAML anchors and aliases (&name, *name) are not accepted; "
                      "write each value out", "yaml_alias")
        tag = getattr(event, "tag", None)
        if tag is not None:
            shown = "!!" + tag[len(_TAG_PREFIX):] if tag.startswith(_TAG_PREFIX) else tag
            self.fail(event, f"the YAML tag {_short(shown)} is not accepted; a "
                      "spec is plain data (tags could construct objects)", "yaml_tag")
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            self.fail(event, f"the document has more than {MAX_YAML_NODES:,} values",
                      "too_large")

    def build(self, events: Any) -> Any:
        # why: PyYAML loads only for a YAML document
        import yaml

        # stack entries: [container, pending key (mappings), key event]
        stack: list[list[Any]] = []
        documents = 0
        result: Any = None
        for event in events:
            if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent,
                                  yaml.DocumentEndEvent)):
                continue
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    self.fail(event, "more than one YAML document ('---'); a spec is one "
                              "document", "bad_yaml")
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                value = stack.pop()[0]
                if not stack:
                    result = value
                else:
                    self.attach(stack, value, event)
                continue
            self.check(event)
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    _too_deep(self.origin, self._line(event))
                container: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
                stack.append([container, None, None])
                continue
            value = self.scalar(event)
            if not stack:
                result = value
            else:
                self.attach(stack, value, event)
        return result

    def attach(self, stack: list[list[Any]], value: Any, event: Any) -> None:
        top = stack[-1]
        container = top[0]
        if isinstance(container, list):
            container.append(value)
            return
        if top[2] is None:  # this value is a key
            if not isinstance(value, str):
                self.fail(event, f"a mapping key must be text, not {_short(value)}",
                          "bad_key")
            if value in container:
                self.fail(event, f"duplicate key {_short(value)}", "duplicate_key")
            top[1], top[2] = value, event
            return
        container[top[1]] = value
        top[1] = top[2] = None

    def scalar(self, event: Any) -> Any:
        value: str = event.value
        if not event.implicit[0]:  # quoted or block scalars are text
            return value
        if _YAML_INT.fullmatch(value):
            return _integer(value, self.origin, self._line(event))
        if _YAML_FLOAT.fullmatch(value):
            return float(value)
        if _YAML_NOT_FINITE.fullmatch(value):
            self.fail(event, f"{value} is not a number convsym accepts (NaN and Infinity "
                      "are rejected)", "not_finite")
        if value in _YAML_TRUE:
            return True
        if value in _YAML_FALSE:
            return False
        if value in _YAML_NULL:
            return None
        return value

    @staticmethod
    def _line(event: Any) -> str:
        mark = getattr(event, "start_mark", None)
        return f"line {mark.line + 1}: " if mark is not None else ""


# --- shared ---------------------------------------------------------------------------------


def _integer(token: str, origin: str, where: str) -> int:
    digits = token.lstrip("+-")
    if len(digits) > MAX_INT_DIGITS:
        _long_integer(origin, where, len(digits))
    return int(token)


def _long_integer(origin: str, where: str, digits: int | None) -> NoReturn:
    shown = f"with {digits} digits" if digits is not None else \
        f"longer than {MAX_INT_DIGITS} digits"
    raise SpecError(f"{where}an integer literal {shown}; the limit is {MAX_INT_DIGITS} digits "
                    "(sizes are at most 2**62)", source=origin, code="too_large")


_INT_LIMIT = 10 ** MAX_INT_DIGITS


def _too_many(origin: str, limit: int) -> NoReturn:
    raise SpecError(f"the document has more than {limit:,} values", source=origin,
                    code="too_large")


def _check_length(text: str, origin: str) -> None:
    """At most :data:`MAX_FILE_BYTES` bytes of UTF-8, as a file of this text would hold."""
    if not isinstance(text, str):
        raise SpecError(f"expected text, not {type(text).__name__}", source=origin,
                        code="not_text")
    if len(text) > MAX_FILE_BYTES:  # every character is at least one byte
        _too_long(origin)
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as err:  # a lone surrogate: not text any file could hold
        raise SpecError(f"the text is not valid Unicode (U+{ord(text[err.start]):04X} at "
                        f"position {err.start + 1})", source=origin, code="not_text") from None
    if size > MAX_FILE_BYTES:
        _too_long(origin)


def _too_long(origin: str) -> NoReturn:
    raise SpecError(f"the text is longer than the limit of {MAX_FILE_BYTES:,} bytes",
                    source=origin, code="too_large")


def check_nodes(value: Any, origin: str) -> Any:
    """``value`` itself, once its lists and dicts nest at most :data:`MAX_DEPTH` deep, it
    holds at most :data:`MAX_NODES` values and no integer of more than 30 digits.

    >>> check_nodes({"a": [1, 2, {"b": None}]}, "<dict>")
    {'a': [1, 2, {'b': None}]}
    """
    level = [value] if isinstance(value, (dict, list, tuple)) else []
    depth = 0
    count = 1
    while level:
        depth += 1
        if depth > MAX_DEPTH:
            _too_deep(origin, "")
        items = [item for box in level for item in (box.values() if isinstance(box, dict)
                                                    else box)]
        count += len(items)
        if count > MAX_NODES:
            _too_many(origin, MAX_NODES)
        for item in items:
            if type(item) is int and not -_INT_LIMIT < item < _INT_LIMIT:
                _long_integer(origin, "", len(str(abs(item))))
        level = [item for item in items if isinstance(item, (dict, list, tuple))]
    return value


def _too_deep(origin: str, where: str) -> NoReturn:
    raise SpecError(f"{where}nested deeper than {MAX_DEPTH} levels", source=origin,
                    code="too_deep")


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
