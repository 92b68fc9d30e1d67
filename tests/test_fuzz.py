"""The atheris target runs clean for a few thousand inputs (the long runs are in RELIABILITY.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_fuzz_target_runs_clean(tmp_path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "fuzz" / "seeds", corpus)
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "fuzz" / "fuzz_guard.py"),
            str(corpus),
            "-atheris_runs=2000",
            "-rss_limit_mb=1024",
            "-malloc_limit_mb=512",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Done 2000" in proc.stderr
    assert not list(tmp_path.glob("crash-*"))
