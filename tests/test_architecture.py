"""The rule of direction: media/ and metadata/ never import archive/, Flask or the database."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_import_contract_holds():
    result = subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_import_contract_catches_a_violation(tmp_path):
    """The same contract, run on a copy where metadata imports flask, must fail."""
    for package in ("archive", "media", "metadata"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "metadata" / "bad.py").write_text("import flask\n")
    config = (ROOT / "pyproject.toml").read_text()
    contract = config[config.index("[tool.importlinter]") :]
    contract = contract[: contract.index("[tool.ruff]")]
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent(contract))
    result = subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tmp_path / "pyproject.toml")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "metadata.bad -> flask" in result.stdout
