"""Transition: the run file moved to ``bpviz.core.experiment.runs``; callers move there."""

from bpviz.core.experiment.runs import (  # transition: callers move to core.experiment.runs
    RunError,
    current_config,
    export_run,
    import_run,
    run_csv,
)

__all__ = ["RunError", "current_config", "export_run", "import_run", "run_csv"]
