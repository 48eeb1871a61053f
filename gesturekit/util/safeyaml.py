"""Safe, bounded YAML: size and alias-expansion limits before anything is built, line numbers kept.

Every YAML file gesturekit reads (daemon configs, gesture definitions) goes through
:func:`load_yaml_file` or :func:`parse_yaml`:

* only YAML's safe tags (a :class:`yaml.SafeLoader` subclass; nothing is ever executed);
* a file larger than ``max_bytes`` is refused before it is read in full;
* the node graph is composed first (aliases are shared, not copied) and its *expanded* size is
  counted without expanding it, so a "billion laughs" file of a few hundred bytes is refused in
  microseconds instead of filling the memory;
* duplicate keys and tabs in the indentation are errors;
* mappings and lists come back as :class:`LineDict` / :class:`LineList` (a ``dict`` / ``list``
  that also knows the 1-based line of each key or item), so an error can name its line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import yaml

from gesturekit._exceptions import ConfigError

__all__ = ["LineDict", "LineList", "parse_yaml", "load_yaml_file", "line_map", "MAX_YAML_BYTES", "MAX_YAML_NODES"]

#: Largest YAML file read (bytes). Configs and gesture files are a few KB.
MAX_YAML_BYTES = 1_000_000
#: Most nodes a document may expand to (aliases counted as often as they are used).
MAX_YAML_NODES = 100_000


class LineDict(dict):
    """A dict that knows its own line and the line of each key (1-based)."""

    line: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[Any, int] = {}


class LineList(list):
    """A list that knows its own line and the line of each item (1-based)."""

    line: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[int] = []


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int) -> None:
        self.key, self.line = key, line


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences carry line numbers; duplicate keys are errors."""


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    d = LineDict()
    d.line = node.start_mark.line + 1
    for k_node, v_node in node.value:
        key = loader.construct_object(k_node, deep=True)
        line = k_node.start_mark.line + 1
        try:
            if key in d:
                raise _DuplicateKey(str(key), line)
            d[key] = loader.construct_object(v_node, deep=True)
        except TypeError:  # an unhashable key (a list or mapping used as a key)
            raise _DuplicateKey(str(key)[:40], line) from None
        d.lines[key] = line
    return d


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    out = LineList()
    out.line = node.start_mark.line + 1
    for item in node.value:
        out.append(loader.construct_object(item, deep=True))
        out.lines.append(item.start_mark.line + 1)
    return out


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _expanded_size(root: yaml.Node, limit: int) -> int:
    """Nodes ``root`` expands to, aliases counted each time they are used; stops past ``limit``.

    Memoized per node, so it costs one visit per distinct node whatever the nesting of aliases.
    """
    memo: dict[int, int] = {}
    # iterative post-order walk: no recursion limit on deep documents
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in memo and not done:
            continue
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        if not done:
            memo[key] = -1  # in progress (a recursive alias is refused by the composer already)
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in memo)
            continue
        total = 1 + sum(max(memo.get(id(c), 0), 0) for c in children)
        memo[key] = total
        if total > limit:
            return total
    return memo.get(id(root), 0)


def parse_yaml(text: str, file: str, *, max_nodes: int = MAX_YAML_NODES) -> Any:
    """Parse one YAML document (see the module docstring); raises :class:`ConfigError` with the
    file and line."""
    for n, line in enumerate(text.splitlines(), 1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            raise ConfigError("tab character in the indentation; YAML indents with spaces only", file=file, line=n)
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        size = _expanded_size(node, max_nodes)
        if size > max_nodes:
            raise ConfigError(f"the document expands to more than {max_nodes:,} values (YAML aliases used "
                              "too often: an 'alias bomb'?); refused", file=file, line=node.start_mark.line + 1)
        return loader.construct_document(node)
    except _DuplicateKey as e:
        raise ConfigError("duplicate key; each key may appear once", file=file, line=e.line, field=e.key) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = e.problem or e.context or "invalid YAML"
        raise ConfigError(f"not valid YAML: {problem}", file=file, line=line) from None
    except yaml.YAMLError as e:
        raise ConfigError(f"not valid YAML: {str(e)[:200]}", file=file) from None
    except RecursionError:
        raise ConfigError("not valid YAML: nested too deeply", file=file) from None
    finally:
        loader.dispose()


def load_yaml_file(path: str | os.PathLike[str], *, what: str = "file", max_bytes: int = MAX_YAML_BYTES,
                   max_nodes: int = MAX_YAML_NODES) -> Any:
    """Read and parse a YAML file, refusing one over ``max_bytes`` before reading it."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise ConfigError(f"{what} is {size:,} bytes; the limit is {max_bytes:,}", file=path)
            raw = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", file=path) from None
    except IsADirectoryError:
        raise ConfigError(f"{what} is a folder, not a file", file=path) from None
    except OSError as e:
        raise ConfigError(f"cannot read {what}: {e.strerror}", file=path) from None
    if len(raw) > max_bytes:  # a pipe or a file that grew while being read
        raise ConfigError(f"{what} is larger than the limit of {max_bytes:,} bytes", file=path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{what} is not UTF-8 text (byte {e.start})", file=path) from None
    return parse_yaml(text, path, max_nodes=max_nodes)


def line_map(data: Any, prefix: str = "") -> dict[str, int]:
    """``{"sinks.ws.port": 12, "gestures.0": 5, ...}`` for a document from :func:`parse_yaml`."""
    out: dict[str, int] = {}
    stack: list[tuple[Any, str]] = [(data, prefix)]
    seen: set[int] = set()
    while stack:
        node, pre = stack.pop()
        if id(node) in seen:  # an aliased subtree: its lines are those of its first use
            continue
        if isinstance(node, LineDict):
            seen.add(id(node))
            for k, v in node.items():
                p = f"{pre}.{k}" if pre else str(k)
                out[p] = node.lines.get(k, node.line)
                stack.append((v, p))
        elif isinstance(node, LineList):
            seen.add(id(node))
            for i, v in enumerate(node):
                p = f"{pre}.{i}" if pre else str(i)
                out[p] = node.lines[i] if i < len(node.lines) else node.line
                stack.append((v, p))
        elif isinstance(node, Mapping):
            for k, v in node.items():
                stack.append((v, f"{pre}.{k}" if pre else str(k)))
    return out
