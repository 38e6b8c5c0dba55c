"""Reading a small YAML file a user wrote (a column mapping) so that it costs no more than its size suggests.

YAML is untrusted input here: a few hundred bytes of nested anchors and aliases expand into gigabytes (the "billion
laughs"), deep nesting exhausts the recursion limit or turns the parser quadratic, and a key given twice silently
keeps the last value. So: at most 64 KB, no anchors or aliases, at most 16 levels and 1,000 flow brackets, no
duplicate keys, ``safe_load`` semantics only (no Python tags). Every refusal is one line naming the file and,
where there is one, the line. `pmi ingest --mapping` and `pmi ltv --mapping` both read through here.
"""

from __future__ import annotations

from pathlib import Path

import yaml

MAX_YAML_BYTES = 64 * 1024
MAX_DEPTH = 16
MAX_FLOW_BRACKETS = 1000  # libyaml slows quadratically with flow nesting ([[[[...): bound it before parsing
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlRefused(ValueError):
    """A YAML file pmi does not read; the message is one line naming the file."""


class _DuplicateKey(Exception):
    def __init__(self, key: object, first: yaml.Node, second: yaml.Node) -> None:
        super().__init__(key)
        self.key, self.first, self.second = key, first, second


def _shown(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return repr(node.value[:60])
    return "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """safe_load, refusing a key that appears twice in one mapping (YAML keeps the last without a word)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[object, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base class says so
                break
            if first is not None:
                raise _DuplicateKey(key, first, value_node)
            seen[key] = value_node
        return super().construct_mapping(node, deep)


def _one_line(exc: yaml.YAMLError) -> str:
    return " ".join(str(exc).split())[:300]


def _refuse_expansion(path: Path, text: str, what: str) -> None:
    """Anchors, aliases and deep nesting are refused from the event stream, before anything is built."""
    if text.count("[") + text.count("{") > MAX_FLOW_BRACKETS:
        raise YamlRefused(f"{path}: more than {MAX_FLOW_BRACKETS:,} '[' or '{{'; a {what} is never nested that deep")
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise YamlRefused(f"{path}: line {line}: YAML anchors and aliases are not allowed in a {what}")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlRefused(f"{path}: line {line}: nested deeper than {MAX_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        raise YamlRefused(f"{path}: not valid YAML ({_one_line(exc)})") from exc


def load_small_yaml(path: Path, what: str = "mapping") -> object:
    """The document in ``path`` (a ``what``: "mapping"), or YamlRefused with one line saying why not."""
    path = Path(path)
    if not path.exists():
        raise YamlRefused(f"{path}: {what} file not found")
    if not path.is_file():
        raise YamlRefused(f"{path}: not a file")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise YamlRefused(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if len(data) > MAX_YAML_BYTES:
        size = max(path.stat().st_size, len(data))
        raise YamlRefused(f"{path}: {size:,} bytes; a {what} file may hold at most {MAX_YAML_BYTES // 1024} KB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlRefused(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    _refuse_expansion(path, text, what)
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as dup:
        raise YamlRefused(
            f"{path}: line {dup.second.start_mark.line + 1}: {dup.key} is given twice "
            f"({_shown(dup.first)} and {_shown(dup.second)}); keep one"
        ) from None
    except (yaml.YAMLError, RecursionError) as exc:
        detail = _one_line(exc) if isinstance(exc, yaml.YAMLError) else "nested too deeply"
        raise YamlRefused(f"{path}: not valid YAML ({detail})") from exc
