"""Each default has one home: the modules that used to repeat it import it instead, and stay that way.

The numbers themselves are checked against their home, and the Dagster launch config is checked to refuse a bad
objective the way the library's config does, because a duplicated default or a looser launch type is exactly how
the two drifted apart before.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from ml.allocation.config import AllocationConfig
from ml.allocation.gate import BudgetRules
from ml.economics.costs import CostConfig
from ml.optimize.problem import (
    DEFAULT_AGENCY_FEE_PCT,
    DEFAULT_AMORTISATION_DAYS,
    DEFAULT_MAX_CHANGE_PCT,
    DEFAULT_OVERHEAD_PCT,
)

REPO = Path(__file__).resolve().parents[1]
# Modules that declare the allocation's safety net or cost rates; only the homes may hold the numbers.
SAFETY_NET_HOME = "ml/optimize/problem.py"
SAFETY_NET_USERS = (
    "ml/allocation/config.py",
    "ml/allocation/gate.py",
    "orchestration/allocation/assets.py",
    "ml/cli/loop.py",
    "ml/cli/allocate.py",
    "ml/allocation/portfolio/problem.py",
    "ml/backtest/config.py",
)
COST_RATE_HOME = "ml/economics/costs.py"
COST_RATE_USERS = (
    "ml/optimize/problem.py",
    "ml/allocation/config.py",
    "orchestration/allocation/assets.py",
    "ml/cli/allocate.py",
)
SAFETY_NET_NAMES = {"max_change_pct", "DEFAULT_MAX_CHANGE_PCT", "--max-change-pct"}
COST_RATE_NAMES = {
    "overhead_pct",
    "--overhead-pct",
    "agency_fee_pct",
    "amortisation_days",
    "creative_amortisation_days",
    "attribution_pct",
    "infrastructure_pct",
    "team_pct",
    "DEFAULT_OVERHEAD_PCT",
    "DEFAULT_AGENCY_FEE_PCT",
    "DEFAULT_AMORTISATION_DAYS",
}


def _number(node: ast.AST | None) -> bool:
    """A literal number (or a number spelled as a string, as argparse defaults are), or a call (Field(0.25, ...),
    add_argument(default="0.25")) whose default is one."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, str):
            return re.fullmatch(r"\d*\.?\d+", node.value.strip()) is not None
        return isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
    if isinstance(node, ast.Call):
        defaults = [k.value for k in node.keywords if k.arg == "default"]
        return any(_number(n) for n in node.args[:1] + defaults)
    return False


def literal_defaults(path: str, names: set[str]) -> list[str]:
    """Where `path` gives one of `names` a literal number as its default (an assignment, Field or CLI flag)."""
    tree = ast.parse((REPO / path).read_text(), filename=path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets, value = [node.target.id], node.value
        elif isinstance(node, ast.Assign):
            targets, value = [t.id for t in node.targets if isinstance(t, ast.Name)], node.value
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            targets, value = [str(node.args[0].value)], ast.Call(func=node.func, args=[], keywords=node.keywords)
        else:
            continue
        if names.intersection(targets) and _number(value):
            found.append(f"{path}:{node.lineno}")
    return found


@pytest.mark.parametrize("path", SAFETY_NET_USERS)
def test_the_safety_net_default_is_imported_not_repeated(path):
    assert literal_defaults(path, SAFETY_NET_NAMES) == [], f"max_change_pct's default belongs in {SAFETY_NET_HOME}"


@pytest.mark.parametrize("path", COST_RATE_USERS)
def test_cost_rates_are_imported_not_repeated(path):
    assert literal_defaults(path, COST_RATE_NAMES) == [], f"cost rates belong in {COST_RATE_HOME}"


def test_the_homes_still_hold_the_numbers():
    """The scan above must be able to see a literal: it finds the ones in the homes."""
    assert literal_defaults(SAFETY_NET_HOME, SAFETY_NET_NAMES)
    assert literal_defaults(COST_RATE_HOME, COST_RATE_NAMES)


@pytest.fixture(scope="module")
def allocation_assets():
    """The Dagster allocation module; its inputs' keys come from the dbt manifest, prepared first."""
    from orchestration.warehouse.project import prepare_dbt_manifest

    prepare_dbt_manifest()
    import orchestration.allocation.assets as assets

    return assets


def test_every_config_agrees_with_the_homes(allocation_assets):
    costs = CostConfig()
    launch = allocation_assets.AllocationRunConfig()
    assert DEFAULT_MAX_CHANGE_PCT == BudgetRules().max_change_pct == AllocationConfig().max_change_pct
    assert launch.max_change_pct == DEFAULT_MAX_CHANGE_PCT
    assert (launch.min_change, launch.period_hours) == (BudgetRules().min_change, BudgetRules().period_hours)
    assert (DEFAULT_OVERHEAD_PCT, DEFAULT_AGENCY_FEE_PCT, DEFAULT_AMORTISATION_DAYS) == (
        costs.overhead_pct,
        costs.agency_fee_pct,
        costs.creative_amortisation_days,
    )


def _allocation_job(assets, tmp_path: Path) -> dg.JobDefinition:
    from orchestration.resources import PmiHomeResource

    defs = dg.Definitions(
        assets=[assets.allocation_run],
        jobs=[dg.define_asset_job("allocate", selection=[assets.allocation_run])],
        resources={"pmi_home": PmiHomeResource(home=str(tmp_path))},
    )
    return defs.resolve_job_def("allocate")


def test_a_bad_objective_is_refused_at_launch(allocation_assets, tmp_path):
    job = _allocation_job(allocation_assets, tmp_path)
    bad = {"ops": {"allocation_run": {"config": {"objective": "clicks"}}}}
    with pytest.raises(dg.DagsterInvalidConfigError, match=r"objective.*profit.*revenue.*conversions.*clicks"):
        job.execute_in_process(run_config=bad, instance=dg.DagsterInstance.ephemeral())
    # No run started: the refusal came from validating the launch config, not from inside the step.
    assert not any(tmp_path.iterdir())


def test_every_named_objective_is_accepted_at_launch(allocation_assets, tmp_path):
    job = _allocation_job(allocation_assets, tmp_path)
    for objective in ("profit", "revenue", "conversions"):
        good = {"ops": {"allocation_run": {"config": {"objective": objective}}}}
        assert dg.validate_run_config(job, good)["ops"]["allocation_run"]["config"]["objective"] == objective


def test_no_unused_code_by_vulture():
    """Dead functions, variables and imports (vulture, at the confidence and paths of pyproject's [tool.vulture])."""
    proc = subprocess.run([sys.executable, "-m", "vulture"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# One response-curve implementation: the families, the Hill formula and the inverse slope live in CURVE_HOME. The
# simulated world (the simulator's and the unowned benchmark's true curves) keeps its own formulas on purpose: a
# model graded against a truth that shares its code would share its bugs.
CURVE_HOME = "ml/response_curves/"
SIMULATED_WORLD = ("ml/simulation/", "ml/evaluation/")


def _library_modules() -> list[tuple[str, ast.Module]]:
    paths = sorted((REPO / "ml").rglob("*.py"))
    rel = [p.relative_to(REPO).as_posix() for p in paths]
    return [(r, ast.parse(p.read_text(), filename=r)) for r, p in zip(rel, paths, strict=True)]


def _hill_ratios(tree: ast.Module) -> list[int]:
    """Lines computing ``r / (1 + r)`` (optionally times a scale) of an ``r`` assigned from a power: the Hill curve."""
    powers = {
        t.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and getattr(node.value.func, "attr", getattr(node.value.func, "id", "")) == "power"
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.BinOp):
            terms = (node.right.left, node.right.right)
            one = any(isinstance(x, ast.Constant) and x.value == 1 for x in terms)
            if one and any(isinstance(x, ast.Name) and x.id in powers for x in terms):
                lines.append(node.lineno)
    return lines


def test_one_response_curve_implementation():
    families, hill_formulas, family_literals = [], [], []
    for path, tree in _library_modules():
        if path.startswith(SIMULATED_WORLD):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                members = {t.id for s in node.body if isinstance(s, ast.Assign) for t in s.targets if hasattr(t, "id")}
                if {"HILL", "EXPONENTIAL", "LOG"} <= members:
                    families.append(f"{path}:{node.lineno}")
        if path.startswith(CURVE_HOME):
            continue
        hill_formulas += [f"{path}:{line}" for line in _hill_ratios(tree)]
        family_literals += [
            f"{path}:{n.lineno}"
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and n.value in ("hill", "exponential")
        ]
    assert families == [f"{CURVE_HOME}family.py:16"], "one family enum, CurveFamily"
    assert hill_formulas == [], f"the Hill curve is computed in {CURVE_HOME}, not {hill_formulas}"
    assert family_literals == [], f"family names come from CurveFamily: {family_literals}"


def test_the_curve_scan_sees_the_home():
    """The scan must be able to see a Hill formula: it finds the one in the home."""
    home = [(p, t) for p, t in _library_modules() if p.startswith(CURVE_HOME)]
    assert any(_hill_ratios(tree) for _, tree in home)


# --- One home per idea for layers and files: the CLI on top, one atomic writer, one reader's vocabulary. ---
LIBRARY_ROOTS = ("ml", "orchestration")
ATOMIC_WRITER_HOME = "ml/io/atomic.py"
READER_HOME, CELLS_HOME = "ml/io/tables.py", "ml/io/cells.py"
TABLE_SUFFIX_TEXTS = {".csv", ".csv.gz", ".txt", ".parquet", ".pq"}
BOOLEAN_TEXTS = {"true", "t", "yes", "y", "false", "f", "no", "n"}


def library_modules() -> list[tuple[str, ast.Module]]:
    """Every module of ml/ and orchestration/, parsed, with its repository-relative path."""
    return [
        (str(path.relative_to(REPO)), ast.parse(path.read_text(), filename=str(path)))
        for root in LIBRARY_ROOTS
        for path in sorted((REPO / root).rglob("*.py"))
    ]


def imported_modules(tree: ast.Module) -> set[str]:
    """Dotted names a module imports, including `from ml import cli` as ml.cli."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_nothing_below_the_cli_imports_it():
    """The CLI is the top layer: library code and Dagster assets never import ml.cli (lazily or not)."""
    offenders = [
        path
        for path, tree in library_modules()
        if not path.startswith("ml/cli/")
        and any(name == "ml.cli" or name.startswith("ml.cli.") for name in imported_modules(tree))
    ]
    assert offenders == []


def test_the_import_scan_sees_an_import_of_the_cli():
    tree = ast.parse("def f():\n    from ml.cli.errors import EXIT_OK\n\nfrom ml import cli\n")
    assert {"ml.cli.errors", "ml.cli"} <= imported_modules(tree)


def test_no_cli_package_outside_ml_cli():
    packages = [p.parent.relative_to(REPO) for root in LIBRARY_ROOTS for p in (REPO / root).rglob("__init__.py")]
    assert [str(p) for p in packages if "cli" in p.name and str(p) != "ml/cli"] == []


def _calls(tree: ast.Module, module: str, functions: set[str]) -> list[int]:
    """Lines calling ``module.function`` for one of ``functions`` (e.g. os.replace)."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in functions
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == module
    ]


def test_one_atomic_writer():
    """Only ml/io/atomic.py renames a finished file into place or makes its temporary file; the rest call it."""
    found = {
        path: lines
        for path, tree in library_modules()
        if (lines := _calls(tree, "os", {"replace", "rename"}) + _calls(tree, "tempfile", {"mkstemp"}))
    }
    assert list(found) == [ATOMIC_WRITER_HOME], found


def _string_collections(tree: ast.Module) -> list[tuple[int, set[str]]]:
    """Literal tuples, lists and sets of strings (suffix lists, word lists), with their line."""
    return [
        (node.lineno, {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)})
        for node in ast.walk(tree)
        if isinstance(node, ast.Tuple | ast.List | ast.Set)
    ]


def test_table_suffixes_and_boolean_words_are_defined_once():
    """File suffixes live in the reader, the true/false words in the cell parser; ingest's SQL and the pandas
    readers of `pmi allocate` and `pmi ltv` import them."""
    suffixes, booleans = [], []
    for path, tree in library_modules():
        for line, strings in _string_collections(tree):
            if strings & TABLE_SUFFIX_TEXTS:
                suffixes.append(f"{path}:{line}")
            if len(strings & BOOLEAN_TEXTS) >= 2:
                booleans.append(f"{path}:{line}")
    assert suffixes and all(where.startswith(READER_HOME + ":") for where in suffixes), suffixes
    assert [where.split(":")[0] for where in booleans] == [CELLS_HOME, CELLS_HOME], booleans
