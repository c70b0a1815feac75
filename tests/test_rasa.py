"""Rasa's own checks: training data validation and the test stories on the trained model."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RASA = str(Path(sys.executable).parent / "rasa")
ENV = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


def rasa(*args, timeout=900):
    return subprocess.run([RASA, *args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout)


def test_rasa_data_validate():
    result = rasa("data", "validate", "--max-history", "5")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


@pytest.mark.model
def test_rasa_test_stories_have_no_prediction_errors(tmp_path):
    model = ROOT / "models" / "current.tar.gz"
    if not model.exists():
        pytest.fail("No trained model: run `make train` (make test does it).")
    result = rasa("test", "core", "--model", str(model), "--stories", "tests/test_stories.yml",
                  "--fail-on-prediction-errors", "--out", str(tmp_path / "results"))
    failed = (tmp_path / "results" / "failed_test_stories.yml")
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:] + details
