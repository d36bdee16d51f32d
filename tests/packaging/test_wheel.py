"""The three folders install as one package `bpviz`, never as bare top-level packages."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("bpviz-*.whl")
    return zipfile.ZipFile(path)


def test_only_bpviz_at_the_top(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/")[0] for name in wheel.namelist()}
    assert tops == {"bpviz", "bpviz-0.1.0.dist-info"}


def test_the_page_and_its_data_ship_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for needed in [
        "bpviz/core/data/digits.csv.gz",
        "bpviz/core/py.typed",
        "bpviz/server/app.py",
        "bpviz/frontend/templates/index.html",
        "bpviz/frontend/static/js/main/main.js",
        "bpviz/frontend/static/i18n/zh.json",
        "bpviz/frontend/static/vendor/katex/katex.min.js",
        "bpviz/frontend/static/vendor/katex/fonts/KaTeX_Main-Regular.woff2",
    ]:
        assert needed in names, needed
    entry = wheel.read("bpviz-0.1.0.dist-info/entry_points.txt").decode()
    assert "bpviz = bpviz.server.cli:main" in entry


def test_editable_install_imports_from_the_folders() -> None:
    import bpviz.core
    import bpviz.frontend
    import bpviz.server

    assert Path(bpviz.core.__file__).parent == ROOT / "core"
    assert Path(bpviz.server.__file__).parent == ROOT / "server"
    assert Path(bpviz.frontend.__file__).parent == ROOT / "frontend"
    site = [p for p in sys.path if p.endswith("site-packages")]
    assert site
    for bare in ("core", "server", "frontend"):
        assert not any((Path(p) / bare).exists() for p in site), bare
