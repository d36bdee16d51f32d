"""Tests of the `bpviz` command line (bpviz.server.cli), run in-process."""

from __future__ import annotations

import io
import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from bpviz.core.experiment import config as cfgmod
from bpviz.server import cli, workers
from bpviz.server.settings import Settings


def write(path: Path, obj: Any) -> str:
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")
    return str(path)


def reject_constant(name: str) -> None:
    """json.loads hook: NaN/Infinity tokens are not JSON."""
    raise AssertionError(f"not strict JSON: {name}")


def run_err(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------------- config


def test_blas_threads_limited() -> None:
    import os

    assert os.environ["OPENBLAS_NUM_THREADS"]
    assert os.environ["OMP_NUM_THREADS"]


def test_config_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_err(["config", "--default"], capsys)
    assert code == 0 and err == ""
    assert json.loads(out) == cfgmod.to_dict(cfgmod.default_config())


def test_config_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_err(["config", "--schema"], capsys)
    assert code == 0
    schema = json.loads(out)
    assert schema == json.loads(json.dumps(cfgmod.json_schema()))
    assert schema["$schema"].endswith("2020-12/schema")


def test_config_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_err(["config", "--markdown"], capsys)
    assert code == 0 and out == cfgmod.markdown_table()


def test_config_needs_one_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_err(["config"], capsys)
    assert code == 2 and "one of the arguments" in err
    code, _, err = run_err(["config", "--default", "--schema"], capsys)
    assert code == 2 and "not allowed with" in err


def test_no_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_err([], capsys)
    assert code == 2 and "usage: bpviz" in err


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_err(["--help"], capsys)
    assert code == 0 and "gradcheck" in out and "train" in out


# ------------------------------------------------------------ bad config files


@pytest.mark.parametrize("command", [["gradcheck"], ["train", "--steps", "1", "--out", "r.json"]])
def test_missing_config_file(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "nope.json")
    code, out, err = run_err([command[0], missing, *command[1:]], capsys)
    assert code == 2 and out == ""
    assert "config file not found" in err and "nope.json" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["gradcheck", "train"])
def test_config_file_not_json(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "c.json", '{"seed": 1,\n  "data": }')
    extra = ["--steps", "1", "--out", str(tmp_path / "r.json")] if command == "train" else []
    code, _, err = run_err([command, path, *extra], capsys)
    assert code == 2
    assert "not valid JSON" in err and "line 2" in err
    assert "Traceback" not in err


def test_config_file_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.json"
    path.write_bytes(b"\xff\xfe{")
    code, _, err = run_err(["gradcheck", str(path)], capsys)
    assert code == 2 and "cannot read config file" in err


def test_config_file_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_err(["gradcheck", str(tmp_path)], capsys)
    assert code == 2 and "cannot read config file" in err


@pytest.mark.parametrize("command", ["gradcheck", "train"])
def test_invalid_config_lists_every_field(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path / "c.json",
        {
            "training": {"learning_rate": -1, "batch_size": 2.5},
            "network": {"hidden": [{"units": 4}, {"units": 9999}], "loss": "softmax_ce"},
            "colour": "red",
        },
    )
    extra = ["--steps", "1", "--out", str(tmp_path / "r.json")] if command == "train" else []
    code, out, err = run_err([command, path, *extra], capsys)
    assert code == 2 and out == ""
    assert "invalid config" in err
    for field in (
        "training.learning_rate",
        "training.batch_size",
        "network.hidden.1.units",
        "colour",
    ):
        assert field in err
    assert not (tmp_path / "r.json").exists()


def test_invalid_config_cross_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "c.json", {"network": {"loss": "softmax_ce"}})
    code, _, err = run_err(["gradcheck", path], capsys)
    assert code == 2 and "network.loss" in err and "[incompatible]" in err


@pytest.mark.parametrize("command", ["gradcheck", "train"])
def test_csv_config_cannot_be_loaded_headless(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A config on an uploaded CSV names a file by hash: the CLI has none (build.build)."""
    path = write(tmp_path / "c.json", {"data": {"name": "csv", "csv": "0123456789abcdef"}})
    extra = ["--steps", "1", "--out", str(tmp_path / "r.json")] if command == "train" else []
    code, out, err = run_err([command, path, *extra], capsys)
    assert code == 2 and out == ""
    assert "data.csv" in err and "[unknown_csv]" in err and "Traceback" not in err


def test_cli_codes_are_the_documented_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bpviz.core.experiment.errors import CODES

    path = write(tmp_path / "c.json", {"seed": 1.5, "data": {"noize": 1}, "network": {"dtype": 3}})
    code, _, err = run_err(["gradcheck", path], capsys)
    assert code == 2
    codes = {line.rsplit("[", 1)[1].rstrip("]") for line in err.splitlines() if line.endswith("]")}
    assert codes == {"not_integer", "unknown_key", "type"} and codes <= set(CODES)


def test_config_top_level_not_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "c.json", "[1, 2]")
    code, _, err = run_err(["gradcheck", path], capsys)
    assert code == 2 and "(config): must be an object" in err


def test_nan_in_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "c.json", '{"training": {"learning_rate": NaN}}')
    code, _, err = run_err(["gradcheck", path], capsys)
    assert code == 2 and "training.learning_rate" in err and "finite" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "c.json", "--steps", "0", "--out", "r.json"],
        ["train", "c.json", "--steps", "x", "--out", "r.json"],
        ["train", "c.json", "--out", "r.json"],
        ["train", "c.json", "--steps", "3"],
        ["gradcheck", "c.json", "--batch", "0"],
        ["serve", "--port", "70000"],
    ],
)
def test_bad_arguments(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_err(argv, capsys)
    assert code == 2 and "usage:" in err


def test_train_out_folder_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "c.json", {})
    code, _, err = run_err(
        ["train", path, "--steps", "1", "--out", str(tmp_path / "no" / "r.json")], capsys
    )
    assert code == 2 and "does not exist" in err


# ----------------------------------------------------------------------- serve


def served_with(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """``bpviz serve`` in one process runs ``workers.Server``: the configs it ran with."""
    configs: list[Any] = []

    def run(self: workers.Server, sockets: Any = None) -> None:
        self.started = True
        configs.append(self.config)

    monkeypatch.setattr(workers.Server, "run", run)
    return configs


def test_serve_runs_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    configs = served_with(monkeypatch)
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "8123"]) == 0
    [config] = configs
    assert config.app == "bpviz.server.app:create_app" and config.factory is True
    assert (config.host, config.port, config.log_level) == ("0.0.0.0", 8123, "info")
    assert config.log_config == workers.log_config("info")
    options = Settings().uvicorn_options()
    assert config.ws == options["ws"] and config.ws_max_size == options["ws_max_size"]
    assert config.proxy_headers is False and config.forwarded_allow_ips == ""
    assert config.ws_ping_interval == options["ws_ping_interval"]
    assert config.ws_per_message_deflate is False


def test_serve_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    configs = served_with(monkeypatch)
    assert cli.main(["serve"]) == 0
    assert (configs[0].host, configs[0].port, configs[0].workers) == ("127.0.0.1", 8000, 1)


@pytest.fixture
def serve_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    """`bpviz serve` writes host names and proxies to the environment: restored after."""
    from bpviz.server.settings import get_settings

    for name in ("BPVIZ_ALLOWED_HOSTS", "BPVIZ_TRUSTED_PROXIES"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("serve_env")
def test_serve_hosts_workers_and_proxies(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bpviz.server import workers

    calls: list[Any] = []
    monkeypatch.setattr(workers, "supervise", lambda *a: calls.append(a) or 0)
    argv = ["serve", "--host", "0.0.0.0", "--workers", "2", "--allowed-host", "bpviz.test"]
    argv += ["--allowed-host", "*.lab.example", "--trusted-proxy", "10.0.0.0/8"]
    assert cli.main(argv) == 0
    assert calls == [("0.0.0.0", 8000, 2, "info")]
    settings = Settings()  # what the app and every worker process read
    assert settings.allowed_hosts == ["bpviz.test", "*.lab.example"]
    assert settings.trusted_proxies == ["10.0.0.0/8"]
    err = capsys.readouterr().err
    assert "bpviz.test" in err and "--allowed-host NAME" in err  # said at startup


@pytest.mark.usefixtures("serve_env")
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--trusted-proxy", "proxy.example"], "not an IP address"),
        (["serve", "--allowed-host", "a:b"], "not a host name"),
        (["serve", "--workers", "0"], "must be at least 1"),
    ],
)
def test_serve_refuses_bad_names(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


# --------------------------------------------------------------------- helpers


def test_dump_json_makes_strict_json() -> None:
    """The CLI's files go through the server's one NaN → null sanitiser (no copy of it)."""
    np = pytest.importorskip("numpy")
    value = {"a": np.array([[1.0, math.nan]]), "b": (np.float32(2.5), math.inf), 3: np.int64(4)}
    out = io.StringIO()
    cli.dump_json(value, out)
    assert json.loads(out.getvalue()) == {"a": [[1.0, None]], "b": [2.5, None], "3": 4}
    assert not hasattr(cli, "jsonable")


def test_progress_bar_plain(capsys: pytest.CaptureFixture[str]) -> None:
    progress = cli.Progress(20, sys.stderr)
    for i in range(1, 21):
        progress.update(i, loss=0.5)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert 2 <= len(lines) <= 11
    assert lines[-1].startswith("[" + "#" * 30 + "] 20/20 steps")
    assert "loss 0.5" in lines[-1]


# ----------------------------------------------- gradcheck and train (engine)


SMALL = {
    "seed": 3,
    "data": {"name": "xor", "samples": 60},
    "network": {"hidden": [{"units": 3, "activation": "tanh"}]},
    "training": {"batch_size": 8, "learning_rate": 0.1},
}


def test_gradcheck_prints_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("bpviz.core.experiment.experiment")
    pytest.importorskip("bpviz.core.engine.gradcheck")
    path = write(tmp_path / "c.json", SMALL)
    code, out, err = run_err(["gradcheck", path, "--batch", "4"], capsys)
    assert code == 0, err
    result = json.loads(out)
    # xor with one hidden layer of 3: 2·3 + 3 + 3·1 + 1 = 13 parameters
    assert result["n_params"] == 13 and result["n_checked"] == 13
    assert len(result["entries"]) == 13
    assert result["max_rel_error"] < 1e-6


def test_gradcheck_max_params(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("bpviz.core.experiment.experiment")
    pytest.importorskip("bpviz.core.engine.gradcheck")
    path = write(tmp_path / "c.json", {**SMALL, "training": {"l2": 0.01}})
    code, out, err = run_err(["gradcheck", path, "--max-params", "5"], capsys)
    assert code == 0, err
    assert json.loads(out)["n_checked"] == 5


def test_train_writes_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("bpviz.core.experiment.experiment")
    path = write(tmp_path / "c.json", SMALL)
    out = tmp_path / "run.json"
    code, stdout, err = run_err(["train", path, "--steps", "25", "--out", str(out)], capsys)
    assert code == 0, err
    assert stdout == ""
    assert "25/25 steps" in err
    run = json.loads(out.read_text(encoding="utf-8"), parse_constant=reject_constant)
    assert run["format"] == "bpviz-run" and run["version"] == 1
    assert cfgmod.validate(run["config"]) == cfgmod.validate(SMALL)
    assert set(run) == {
        "format", "version", "config", "history", "weights", "batchnorm", "metrics", "state"
    }  # fmt: skip
    # xor: 2 → 3 → 1, W is (n_out, n_in)
    shapes = [(len(w["W"]), len(w["W"][0]), len(w["b"])) for w in run["weights"]]
    assert shapes == [(3, 2, 3), (1, 3, 1)]
    metrics = run["metrics"]
    assert metrics["steps_done"] == 25 and metrics["diverged"] is False
    assert 0.0 <= metrics["train_acc"] <= 1.0 and metrics["train_loss"] > 0
    history = run["history"]["points"]
    assert history["step"][-1] == 25 and len(history["train_loss"]) == 25
    assert not (tmp_path / "run.json.part").exists()


def test_train_is_reproducible(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("bpviz.core.experiment.experiment")
    path = write(tmp_path / "c.json", SMALL)
    runs = []
    for name in ("a.json", "b.json"):
        assert cli.main(["train", path, "--steps", "5", "--out", str(tmp_path / name)]) == 0
        runs.append(json.loads((tmp_path / name).read_text(encoding="utf-8")))
    capsys.readouterr()
    assert runs[0]["weights"] == runs[1]["weights"]


def test_train_diverged_run_is_saved(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("bpviz.core.experiment.experiment")
    config = {
        "data": {"name": "house"},
        "network": {"loss": "mse", "hidden": [{"units": 8, "activation": "relu"}]},
        "training": {"learning_rate": 10},
    }
    path = write(tmp_path / "c.json", config)
    out = tmp_path / "run.json"
    code, _, err = run_err(["train", path, "--steps", "200", "--out", str(out)], capsys)
    assert code == 0, err
    assert "diverged" in err and "Traceback" not in err
    run = json.loads(out.read_text(encoding="utf-8"), parse_constant=reject_constant)
    assert run["metrics"]["diverged"] is True
    assert run["metrics"]["steps_done"] < 200
