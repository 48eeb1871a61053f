import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from shared_data import REPO, data_file  # noqa: E402


@pytest.fixture
def data():
    """``data("tracking/hands.jpg")`` -> absolute Path into the shared data set."""
    return data_file


def run_cli(*args: str, timeout: float = 300, input: str | None = None) -> subprocess.CompletedProcess:
    """Run the real ``gesturekit`` command (as a subprocess) and capture its output."""
    return subprocess.run([sys.executable, "-m", "gesturekit", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, input=input)


@pytest.fixture
def cli():
    return run_cli
