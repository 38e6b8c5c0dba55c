"""Hypothesis strategies for hostile `pmi ingest` inputs: the valid corpus files, mutated by cells, columns, rows,
bytes, encodings, containers and sizes, and mappings from plausible to hostile (alias bombs, deep nesting)."""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml
from hypothesis import strategies as st
from ingest_helpers import GOOD

from ml.ingest.specs import FILE_KINDS

FLAGS = {name: kind.flag for name, kind in FILE_KINDS.items()}
# The valid files a mutated file of each kind is ingested with: --campaigns is always required; the users events
# refer to are already in the fuzzed warehouse.
COMPANIONS = {kind: () if kind == "campaigns" else ("campaigns",) for kind in FILE_KINDS}
# fmt: off
ODD_CELLS = [
    "", " ", "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "null", "None", "-", "TRUE", "no",  # missing, words
    "1e309", "-1e309", "1e308", "1e12", "1e12.5", "1000000000000.01", "999999999999.99", "1e-300",  # bounds
    "-0", "-1", "0", "1.5e3", "1.5E+03", "2.5", "0x1F", "1,234.5", "1 234", "\u0661\u0662",  # number spellings
    "2000-01-01", "1999-12-31T23:59:59", "0001-01-01", "1900-01-01T00:00:00", "9999-12-31", "2026-13-45",  # times
    "2026-10-01T00:00:00+14:00", "2026-10-01T00:00:00Z", "2026-10-01 00:30:00", "20261001",
    "\x00", "a\x00b", "a\tb", "line\nbreak", "cr\rcell", '"', "'", "\\", "\u00e9", "\U0001f600", "\u202e",  # bytes
    "\ufeff", "\x85", "x" * 300, "y" * 1100,
    "ios", "web", "purchase", "101", "u1", "e1", "meta", "US",  # valid values in the wrong place
]
# fmt: on
ODD_NAMES = ["", " ", "spend", "campaign_id", "Spent", "a;b;c", "\x00", "x\ny", "\u00e9", "c" * 1100, '"q"', "date"]
ENCODINGS = ["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"]
HOSTILE_YAML = [
    'revenue_events:\n  columns:\n    a: &a ["lol","lol","lol"]\n    b: &b [*a,*a,*a]\n    c: [*b,*b,*b]\n',
    "hourly: &h {columns: {spend: Spent}}\ndaily: *h\n",
    "[" * 5000,
    "- " * 20000 + "x\n",
    "hourly:\n" + "  " * 40 + "x: 1\n",
    "hourly:\n  columns: {spend: a, spend: b}\n",
    "hourly: !!python/object:os.system {}\n",
    "hourly:\n  columns: {spend: Spent}\n" + "# padding\n" * 7000,
    "\xff\xfe\x00h\x00o\x00u\x00r\x00",
    "hourly:\n  columns: {spend: revenue}\n",
    "hourly:\n  columns: {spend: clicks, revenue: clicks}\n",
    "hourly:\n  columns: {revenue: spend}\n  constants: {revenue: 0}\n",
    "daily:\n  view_through_conversions: maybe\n",
    'hourly:\n  constants: {spend: "1\\u0000"}\n',
    "campaigns:\n  columns: {campaign_id: campaign_id}\n",
    "? [a, b]\n: c\n",
    "hourly: [1, 2]\n",
    "- hourly\n",
    "~\n",
    "",
    'hourly:\n  columns: {spend: ""}\n',
]


@dataclass
class Case:
    """One `pmi ingest` invocation: files to write (name -> bytes, or None for a directory) and flags."""

    files: dict[str, bytes | None] = field(default_factory=dict)
    flags: dict[str, str] = field(default_factory=dict)  # flag -> file name
    mapping: bytes | None = None
    allow_partial: bool = False

    def write(self, folder: Path) -> list[str]:
        """Write the files into ``folder`` and return the `pmi ingest` arguments (without --home)."""
        for name, data in self.files.items():
            if data is None:
                (folder / name).mkdir(exist_ok=True)
            else:
                (folder / name).write_bytes(data)
        args = [part for flag, name in self.flags.items() for part in (flag, str(folder / name))]
        if self.mapping is not None:
            (folder / "mapping.yaml").write_bytes(self.mapping)
            args += ["--mapping", str(folder / "mapping.yaml")]
        return args + (["--allow-partial"] if self.allow_partial else [])


def _good_rows(kind: str) -> list[list[str]]:
    if kind == "daily":  # the hourly file's first hour of each campaign, as days
        rows = _good_rows("hourly")
        return [
            ["campaign_id", "date", *rows[0][2:]],
            *[[r[0], r[1][:10], *r[2:]] for r in rows[1:] if r[1].endswith("T00:00:00")],
        ]
    return list(csv.reader(io.StringIO((GOOD / f"{kind}.csv").read_text())))


GOOD_ROWS = {kind: _good_rows(kind) for kind in FILE_KINDS}


def good_bytes(kind: str) -> bytes:
    return _serialize(GOOD_ROWS[kind], "\n", quoted=True)


def _serialize(rows: list[list[str]], newline: str, quoted: bool) -> bytes:
    if not quoted:
        return (newline.join(",".join(r) for r in rows) + newline).encode("utf-8", "surrogatepass")
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    return out.getvalue().encode("utf-8", "surrogatepass")


cells = st.one_of(st.sampled_from(ODD_CELLS), st.text(max_size=12))


@st.composite
def mutated_rows(draw, kind: str) -> list[list[str]]:
    """The valid table of ``kind`` with one to three cell, column or row mutations."""
    rows = [list(r) for r in GOOD_ROWS[kind]]
    for _ in range(draw(st.integers(1, 3))):
        op = draw(
            st.sampled_from(
                [
                    "cell",
                    "cell",
                    "cell",
                    "cell",
                    "drop_col",
                    "dup_col",
                    "rename",
                    "swap",
                    "add_col",
                    "dup_rows",
                    "drop_row",
                    "ragged",
                ]
            )
        )
        width, height = len(rows[0]), len(rows)
        c = draw(st.integers(0, max(width - 1, 0)))
        r = draw(st.integers(1, max(height - 1, 1))) if height > 1 else 0
        if op == "cell" and height > 1 and c < len(rows[r]):
            rows[r][c] = draw(cells)
        elif op == "drop_col" and width > 1:
            rows = [row[:c] + row[c + 1 :] for row in rows]
        elif op == "dup_col":
            rows = [row + row[c : c + 1] for row in rows]
        elif op == "rename":
            rows[0][c] = draw(st.one_of(st.sampled_from(ODD_NAMES), st.text(max_size=8)))
        elif op == "swap":
            d = draw(st.integers(0, width - 1))
            rows[0][c], rows[0][d] = rows[0][d], rows[0][c]
        elif op == "add_col":
            rows = [rows[0] + [draw(st.sampled_from(ODD_NAMES[:6]))]] + [row + [draw(cells)] for row in rows[1:]]
        elif op == "dup_rows" and height > 1:
            rows = rows + [list(rows[r]) for _ in range(draw(st.sampled_from([1, 2, 50, 2000])))]
        elif op == "drop_row" and height > 1:
            del rows[r]
        elif op == "ragged" and height > 1:
            rows[r] = rows[r] + [draw(cells)] if draw(st.booleans()) else rows[r][:-1]
    return rows


@st.composite
def mutated_bytes(draw, data: bytes) -> bytes:
    """Byte-level damage: inserted, deleted or replaced bytes, truncation, a BOM, other separators."""
    op = draw(st.sampled_from(["none", "none", "insert", "delete", "replace", "truncate", "bom", "semicolons", "tabs"]))
    at = draw(st.integers(0, len(data)))
    if op == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if op == "delete":
        return data[:at] + data[at + draw(st.integers(1, 16)) :]
    if op == "replace" and at < len(data):
        return data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    if op == "truncate":
        return data[:at]
    if op == "bom":
        return b"\xef\xbb\xbf" + data
    if op in ("semicolons", "tabs"):
        return data.replace(b",", b";" if op == "semicolons" else b"\t")
    return data


@st.composite
def huge(draw, kind: str) -> bytes:
    """Size attacks, rarely drawn: a megabyte header, a 3 MB cell, thousands of columns."""
    rows = GOOD_ROWS[kind]
    op = draw(st.sampled_from(["header", "cell", "columns", "no_newline"]))
    if op == "header":
        return _serialize([rows[0][:-1] + ["h" * 2_000_000], *rows[1:]], "\n", quoted=False)
    if op == "cell":
        return _serialize([rows[0], [*rows[1][:-1], "v" * 3_000_000], *rows[2:]], "\n", quoted=False)
    if op == "columns":
        extra = [f"x{i}" for i in range(5000)]
        return _serialize([rows[0] + extra, *[r + ["1"] * len(extra) for r in rows[1:]]], "\n", quoted=False)
    return b"a," * 600_000


def _parquet(rows: list[list[str]], typed: bool) -> bytes:
    header, body = rows[0], [r[: len(rows[0])] + [""] * (len(rows[0]) - len(r)) for r in rows[1:]]
    frame = pd.DataFrame(body, columns=[f"{n}_{i}" if header.count(n) > 1 else n for i, n in enumerate(header)])
    if typed:  # numbers where a whole column parses, as a typed export would store them
        for column in frame.columns:
            numbers = pd.to_numeric(frame[column], errors="coerce")
            if numbers.notna().all():
                frame[column] = numbers
    out = io.BytesIO()
    frame.to_parquet(out, index=False)
    return out.getvalue()


@st.composite
def target_file(draw, kind: str) -> tuple[str, bytes | None]:
    """(file name, content) of the mutated file; None content is a directory in the file's place."""
    container = draw(
        st.sampled_from(["csv"] * 12 + ["gz", "gz_cut", "txt", "parquet", "parquet_bytes", "xlsx", "dir", "huge"])
    )
    if container == "huge":
        return f"{kind}.csv", draw(huge(kind))
    if container == "dir":
        return f"{kind}.csv", None
    rows = draw(mutated_rows(kind))
    if container == "parquet":
        try:
            return f"{kind}.parquet", _parquet(rows, typed=draw(st.booleans()))
        except Exception:  # noqa: BLE001 - pandas/pyarrow refuse some mutated tables; write them as CSV
            container = "csv"
    data = _serialize(rows, draw(st.sampled_from(["\n", "\r\n", "\r"])), quoted=draw(st.booleans()))
    encoding = draw(st.sampled_from(ENCODINGS))
    if encoding != "utf-8":
        data = data.decode("utf-8", "replace").encode(encoding, "replace")
    data = draw(mutated_bytes(data))
    if container in ("gz", "gz_cut"):
        packed = gzip.compress(data, mtime=0)
        return f"{kind}.csv.gz", packed[: len(packed) // 2] if container == "gz_cut" else packed
    suffix = {"txt": "txt", "parquet_bytes": "parquet", "xlsx": "xlsx"}.get(container, "csv")
    return f"{kind}.{suffix}", data


@st.composite
def mappings(draw, kind: str) -> bytes | None:
    """No mapping (mostly), a generated one over the kind's contract columns, or a hostile YAML document."""
    choice = draw(st.sampled_from(["none"] * 6 + ["generated", "generated", "hostile", "bytes"]))
    if choice == "none":
        return None
    if choice == "hostile":
        return draw(st.sampled_from(HOSTILE_YAML)).encode("utf-8", "surrogatepass")
    if choice == "bytes":
        return draw(st.binary(max_size=200))
    contract = FILE_KINDS[kind].column_names
    names = st.one_of(st.sampled_from(contract + GOOD_ROWS[kind][0] + ODD_NAMES[:6]), st.text(max_size=6))
    body: dict = {}
    if draw(st.booleans()):
        body["columns"] = draw(st.dictionaries(st.sampled_from(contract), names, max_size=3))
    if draw(st.booleans()):
        body["constants"] = draw(
            st.dictionaries(st.sampled_from(contract), st.sampled_from(ODD_CELLS[:30]), max_size=2)
        )
    if draw(st.booleans()):
        body["view_through_conversions"] = draw(st.sampled_from([True, False, "yes", None]))
    if draw(st.sampled_from([False] * 5 + [True])):
        body["campaigns_from_columns"] = draw(
            st.dictionaries(
                st.sampled_from(["tv", "radio", "7", ""]),
                st.dictionaries(st.sampled_from(contract), names, max_size=2),
                max_size=2,
            )
        )
    if draw(st.sampled_from([False] * 5 + [True])):
        body[draw(st.sampled_from(["colums", "extra"]))] = 1
    top = draw(st.sampled_from([kind, kind, kind, "hourly", "nonsense"]))
    return yaml.safe_dump({top: body}, allow_unicode=draw(st.booleans())).encode("utf-8", "surrogatepass")


@st.composite
def ingest_cases(draw) -> Case:
    """A mutated file of one kind with the valid files it depends on, sometimes a mapping, sometimes partial."""
    kind = draw(st.sampled_from(["campaigns", *FILE_KINDS]))  # campaigns, the widest file, twice as often
    case = Case(allow_partial=draw(st.sampled_from([False] * 9 + [True])))
    for companion in COMPANIONS[kind]:
        case.files[f"good_{companion}.csv"] = good_bytes(companion)
        case.flags[FLAGS[companion]] = f"good_{companion}.csv"
    name, data = draw(target_file(kind))
    case.files[name] = data
    case.flags[FLAGS[kind]] = name
    if draw(st.sampled_from([False] * 49 + [True])):
        case.flags[FLAGS[kind]] = "missing.csv"
    case.mapping = draw(mappings(kind))
    return case
