"""The `bpviz` command: serve the page, check gradients, train headless, print the config.

    bpviz serve [--host 127.0.0.1] [--port 8000] [--workers N] [--allowed-host NAME]...
    bpviz gradcheck CONFIG.json [--batch N]
    bpviz train CONFIG.json --steps N --out RUN.json
    bpviz report RUN.json [--out REPORT.html]
    bpviz config (--default | --schema | --markdown)

Exit codes: 0 success, 2 bad input (usage, unreadable or invalid config file),
1 another failure (e.g. the run file cannot be written). Bad input never shows
a traceback.
"""

from __future__ import annotations

import os

# One BLAS thread per process: the other core of a 2-core server is the web
# server's. Must run before numpy is imported anywhere.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import sys
import time
from pathlib import Path
from typing import IO, Any

from bpviz.core.experiment import config as cfgmod  # pydantic, no numpy


class UsageError(Exception):
    """Bad input from the user: printed on stderr, exit code 2."""


# --------------------------------------------------------------------- helpers


def read_json(path: str, what: str) -> Any:
    """Read a JSON file; raise UsageError with a readable message (``what``: "config")."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{what} file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {what} file {path}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise UsageError(f"{path} is not valid JSON: nested too deeply") from None


def write_atomically(out: Path, write: Any) -> int:
    """Write through ``OUT.part`` then rename (no half-written file); 1 when it fails."""
    tmp = out.with_name(out.name + ".part")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            write(fh)
        tmp.replace(out)
    except OSError as exc:
        print(f"bpviz: error: cannot write {out}: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}", file=sys.stderr)
    return 0


def config_problems(path: str, exc: cfgmod.ConfigError) -> UsageError:
    """A refused config as the CLI prints it: one line per field, with its code (the codes
    of docs/config.md, the same on the page and here)."""
    lines = [f"invalid config in {path}:"]
    lines += [f"  {e.field or '(config)'}: {e.message} [{e.code}]" for e in exc.errors]
    return UsageError("\n".join(lines))


def load_config(path: str) -> cfgmod.Config:
    """Read and validate a config file; raise UsageError with a readable message."""
    obj = read_json(path, "config")
    try:
        return cfgmod.validate(obj)
    except cfgmod.ConfigError as exc:
        raise config_problems(path, exc) from None


def dump_json(obj: Any, out: IO[str], indent: int | None = 2) -> None:
    """``obj`` as strict JSON (NumPy values as plain ones, every digit kept, a non-finite
    number — a diverged run — as ``null``: the server's one sanitiser, ``encode.jsonable``)."""
    from bpviz.server import encode  # NumPy: after the BLAS settings above

    plain = encode.jsonable(obj, rounded=False)
    json.dump(plain, out, indent=indent, ensure_ascii=False, allow_nan=False)
    out.write("\n")


class Progress:
    """A plain-text progress bar on stderr (redrawn in place on a terminal)."""

    def __init__(self, total: int, stream: IO[str], width: int = 30) -> None:
        self.total, self.stream, self.width = total, stream, width
        self.start = time.perf_counter()
        self.last_draw = -1.0
        self.tty = stream.isatty()

    def update(self, done: int, loss: float | None = None) -> None:
        now = time.perf_counter()
        final = done >= self.total
        # on a terminal redraw at most 10×/s; otherwise print ~10 lines in all
        if self.tty:
            if not final and now - self.last_draw < 0.1:
                return
        elif not final and done % max(1, self.total // 10) != 0:
            return
        self.last_draw = now
        filled = int(self.width * done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        text = f"[{bar}] {done}/{self.total} steps {now - self.start:.1f}s"
        if loss is not None:
            text += f" loss {loss:.4g}"
        if self.tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def end_line(self) -> None:
        """End a half-drawn bar before printing another message."""
        if self.tty and self.last_draw >= 0:
            self.stream.write("\n")


# --------------------------------------------------------- engine adapters
# Everything the CLI needs from bpviz.core.experiment.experiment, in one place.


def _experiment(path: str, config: cfgmod.Config) -> Any:
    """The config's experiment (``build.build``); a CSV data set cannot be loaded here."""
    from bpviz.core.experiment.build import build

    try:
        return build(config)
    except cfgmod.ConfigError as exc:
        raise config_problems(path, exc) from None


def _first_batch(experiment: Any, n: int) -> tuple[Any, Any]:
    """The first `n` training examples: `(X (n, n_in), Y (n, n_out))`."""
    data = experiment.dataset
    return data.X_train[:n], data.Y_train[:n]


def _last_loss(experiment: Any) -> float | None:
    """Mean loss of the last batch (None before the first loss phase)."""
    trace = experiment.trace
    return None if trace is None or trace.loss is None else float(trace.loss)


# -------------------------------------------------------------------- commands


def cmd_serve(args: argparse.Namespace) -> int:
    from bpviz.server.workers import serve

    try:
        code: int = serve(
            args.host,
            args.port,
            workers=args.workers,
            log_level=args.log_level,
            allowed_hosts=args.allowed_host,
            trusted_proxies=args.trusted_proxy,
        )
    except ValueError as exc:  # a bad --allowed-host or --trusted-proxy
        raise UsageError(str(exc)) from None
    return code


def cmd_gradcheck(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    from bpviz.core.engine.gradcheck import gradient_check

    experiment = _experiment(args.config, config)
    n = args.batch if args.batch is not None else config.training.batch_size
    X, Y = _first_batch(experiment, n)
    result = gradient_check(
        experiment.network,
        X,
        Y,
        l1=config.training.l1,
        l2=config.training.l2,
        max_params=args.max_params,
    )
    dump_json(result.to_dict(), sys.stdout)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    out = Path(args.out)
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: folder {out.parent} does not exist")
    experiment = _experiment(args.config, config)
    experiment.eval_budget = None  # headless: evaluate every history point, not on a budget
    progress = Progress(args.steps, sys.stderr)
    for done in range(1, args.steps + 1):
        experiment.step()
        if experiment.diverged:
            progress.end_line()
            print(
                f"bpviz: training diverged (a non-finite value) after "
                f"{experiment.steps_done} steps; the run is saved as it is",
                file=sys.stderr,
            )
            break
        progress.update(done, _last_loss(experiment))
    from bpviz.core.experiment.runs import export_run

    run = export_run(experiment)
    return write_atomically(out, lambda fh: dump_json(run, fh, indent=None))


def cmd_report(args: argparse.Namespace) -> int:
    path = Path(args.run)
    run = read_json(args.run, "run")
    if not isinstance(run, dict):
        raise UsageError(f"{path} is not a bpviz run (a JSON object)")
    out = Path(args.out) if args.out else path.with_suffix(".html")
    from bpviz.core.experiment.config import ConfigError
    from bpviz.core.experiment.runs import RunError
    from bpviz.server.pages import plotly_js_bytes
    from bpviz.server.report import build_report

    try:
        text = build_report(run, plotly_js_bytes().decode("utf-8"))
    except ConfigError as exc:
        raise UsageError(f"{path}: invalid config: {exc}") from None
    except RunError as exc:
        raise UsageError(f"{path}: {exc}") from None
    return write_atomically(out, lambda fh: fh.write(text))


def cmd_config(args: argparse.Namespace) -> int:
    if args.schema:
        dump_json(cfgmod.json_schema(), sys.stdout)
    elif args.markdown:
        sys.stdout.write(cfgmod.markdown_table())
    else:
        dump_json(cfgmod.to_dict(cfgmod.default_config()), sys.stdout)
    return 0


# ---------------------------------------------------------------------- parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _port(text: str) -> int:
    value = _positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bpviz", description="bpviz — a teaching visualizer of backpropagation."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the web server")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    p.add_argument(
        "--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"]
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="server processes on the one port (default 1; 2 on a 2-core server)",
    )
    p.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name the server answers to besides localhost and its IP addresses "
        "(repeatable; *.example.edu for every name under it)",
    )
    p.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="an IP address or CIDR range whose X-Forwarded-* headers are believed (repeatable)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("gradcheck", help="compare backprop gradients with finite differences")
    p.add_argument("config", metavar="CONFIG.json", help="config file (see docs/config.md)")
    p.add_argument(
        "--batch",
        type=_positive_int,
        default=None,
        help="examples to check (default: the config's batch_size)",
    )
    p.add_argument(
        "--max-params",
        type=_positive_int,
        default=None,
        help="check only this many parameters, chosen at random (default: all)",
    )
    p.set_defaults(func=cmd_gradcheck)

    p = sub.add_parser("train", help="train without the page and save the run as JSON")
    p.add_argument("config", metavar="CONFIG.json", help="config file (see docs/config.md)")
    p.add_argument("--steps", type=_positive_int, required=True, help="training steps")
    p.add_argument("--out", metavar="RUN.json", required=True, help="run file to write")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("report", help="write a standalone HTML report of a run (opens offline)")
    p.add_argument("run", metavar="RUN.json", help="run file from `bpviz train` or the page")
    p.add_argument("--out", metavar="REPORT.html", help="default: RUN.html beside the run")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("config", help="print the default config, its JSON Schema or docs table")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--default", action="store_true", help="print the default config")
    group.add_argument("--schema", action="store_true", help="print the JSON Schema")
    group.add_argument("--markdown", action="store_true", help="print the tables of docs/config.md")
    p.set_defaults(func=cmd_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage and the error
        return exc.code if isinstance(exc.code, int) else 2
    try:
        code: int = args.func(args)
    except UsageError as exc:
        print(f"bpviz: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bpviz: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
