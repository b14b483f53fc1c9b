"""What both experiment runners share: reading a YAML config and running with a report directory."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import yaml


class ConfigError(ValueError):
    """The config (or the CLI's overrides of it) cannot run; the message says why."""


def read_config(path: str | Path, sections: set[str]) -> dict:
    """The YAML mapping at ``path``; raises ValueError naming any unknown top-level section."""
    config = yaml.safe_load(Path(path).read_text())
    if not config:
        raise ValueError("the config is empty")
    if not isinstance(config, dict):
        raise ValueError("the config must be a YAML mapping")
    unknown = set(config) - sections - {"out"}
    if unknown:
        raise ValueError(f"unknown config section(s): {', '.join(sorted(unknown))}")
    return config


def run_experiment(config_path: str, out: str | None, sections: set[str], run: Callable,
                   adjust: Callable[[dict], None] = lambda config: None) -> int:
    """Load, adjust (CLI overrides), run into the output directory; exit status 2 on a bad config
    (or when ``run`` raises ConfigError). A ``run`` that returns None wrote no report yet."""
    try:
        config = read_config(config_path, sections)
    except (OSError, ValueError, yaml.YAMLError) as error:
        print(f"error: {config_path}: {error}", file=sys.stderr)
        return 2
    adjust(config)
    directory = Path(out or config.get("out") or Path("reports") / Path(config_path).stem)
    try:
        report = run(config, directory, log=lambda message: print(message, flush=True))
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if report is not None:
        print(f"wrote {directory / 'report.md'} and {directory / 'report.json'}")
    return 0
