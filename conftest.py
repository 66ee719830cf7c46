"""Root fixtures shared by the package tests and the notebook tests (nbval).

The notebooks are tested on the synthetic default (100,000 persons, the generator's default
seed), generated once per session and only when a test needs it. For nbval the notebooks'
empty parameters fall back to the environment, so the data root, cache, report folder and
demo gemeente are set here before the first kernel starts.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

NOTEBOOK_GEMEENTE = "1938"
"""The gemeente of the notebook tests: a planted high outlier of the synthetic default."""

_made: dict[str, Path] = {}


def synthetic_default() -> Path:
    """Return a folder holding the synthetic default (``ra/``, ``truth.json``), made once."""
    if "default" not in _made:
        import synthetic
        tmp = Path(tempfile.mkdtemp(prefix="jeugdkit-default-"))
        synthetic.generate(tmp, persons=100_000)
        _made["default"] = tmp
    return _made["default"]


@pytest.fixture(scope="session")
def synthetic_default_tree() -> Path:
    """The synthetic default tree (see :func:`synthetic_default`)."""
    return synthetic_default()


LEDGER_ENV = "JEUGDKIT_LEDGER"
"""The period ledger root (jeugdkit.output.period): every module and every test gets its own,
so that no test's outputs are protected against another's (nor written into the repository)."""
os.environ[LEDGER_ENV] = tempfile.mkdtemp(prefix="jeugdkit-ledger-")


@pytest.fixture(scope="module", autouse=True)
def _module_ledger(tmp_path_factory):
    """A fresh period ledger root for each test module (its module-scoped fixtures too)."""
    before = os.environ.get(LEDGER_ENV)
    os.environ[LEDGER_ENV] = str(tmp_path_factory.mktemp("ledger"))
    yield
    os.environ[LEDGER_ENV] = before


@pytest.fixture(scope="module", autouse=True)
def _module_complements(request, tmp_path_factory):
    """Modules with ``GREEDY_COMPLEMENTS = True`` run with greedy complements (in the process
    and, through JEUGDKIT_SETTINGS, in the CLI and notebook runs they start): they test what
    the audit, relations, reports and partial deliveries do with a pattern, not how it is
    chosen, and the cost optimisation would double their time. The optimal default is
    covered by tests/test_optimal_complements.py, the output-control and period-ledger tests,
    the demo test and the notebooks."""
    if not getattr(request.module, "GREEDY_COMPLEMENTS", False):
        yield
        return
    from jeugdkit.output import suppression

    toml = tmp_path_factory.mktemp("settings") / "greedy.toml"
    toml.write_text('[output_control]\ncomplements = "greedy"\n', encoding="utf-8")
    saved = (suppression.MAX_OPTIMAL_FREE, suppression.MAX_BLOCKED_FREE,
             os.environ.get("JEUGDKIT_SETTINGS"))
    suppression.MAX_OPTIMAL_FREE = suppression.MAX_BLOCKED_FREE = -1
    os.environ["JEUGDKIT_SETTINGS"] = str(toml)
    yield
    suppression.MAX_OPTIMAL_FREE, suppression.MAX_BLOCKED_FREE = saved[:2]
    if saved[2] is None:
        os.environ.pop("JEUGDKIT_SETTINGS", None)
    else:
        os.environ["JEUGDKIT_SETTINGS"] = saved[2]


@pytest.fixture(autouse=True)
def _test_ledger(tmp_path_factory, monkeypatch):
    """A fresh period ledger root for each test."""
    monkeypatch.setenv(LEDGER_ENV, str(tmp_path_factory.mktemp("ledger")))


def pytest_collection_finish(session):
    if not any(item.nodeid.endswith(".ipynb") or ".ipynb::" in item.nodeid
               for item in session.items):
        return
    root = synthetic_default()
    os.environ["JEUGDKIT_DATA_ROOT"] = str(root / "ra")
    os.environ["JEUGDKIT_CACHE_DIR"] = str(root / "cache")
    os.environ["JEUGDKIT_REPORT_DIR"] = str(root / "rapporten")
    os.environ["JEUGDKIT_GEMEENTE"] = NOTEBOOK_GEMEENTE
    os.environ[LEDGER_ENV] = str(root / "jeugdkit-ledger")  # the notebooks' own
    for name in ("JEUGDKIT_PERIOD", "JEUGDKIT_CATALOG", "JEUGDKIT_SETTINGS"):
        os.environ.pop(name, None)


def pytest_sessionfinish(session, exitstatus):
    for path in _made.values():
        shutil.rmtree(path, ignore_errors=True)
