"""``longpan synth``: generate a synthetic province with ground truth."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from longpan.cli.common import handle_errors, out, progress_bar
from longpan.core.errors import InputError

# The generator (numpy, pyarrow, pypinyin) is imported when a province is generated, so
# `longpan --help` stays fast; make_config checks the scale (tests/cli/test_startup.py
# checks that this list names every scale).
SCALE_NAMES = "tiny, small, medium, large or xl"


def _rates(values: list[str] | None) -> dict[str, float]:
    rates: dict[str, float] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        try:
            rates[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise InputError(f"--rate expects TYPE=NUMBER, got {item!r}")
    return rates


@handle_errors
def synth(
    out_dir: Annotated[Path, typer.Option("--out", help="new folder to write")],
    scale: Annotated[str, typer.Option(help=f"one of {SCALE_NAMES}")] = "small",
    seed: Annotated[int, typer.Option(help="random seed: same seed, same files")] = 1,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the date the data describes (default 2024-12-31)")
    ] = None,
    province: Annotated[str, typer.Option(help="province to generate")] = "江苏",
    rate: Annotated[
        list[str] | None,
        typer.Option(help="irregularity rate, e.g. --rate unfiled_website=0.05 (repeatable)"),
    ] = None,
) -> None:
    """Generate a synthetic province (exchange format + truth.csv + near_misses.csv)."""
    from longpan.synth.generate import generate, step_count
    from longpan.synth.keyunits import FEED
    from longpan.synth.model import make_config

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise InputError(f"--as-of {as_of!r} is not an ISO date (YYYY-MM-DD)") from None
    cfg = make_config(scale, seed, as_of=day, province=province, rates=_rates(rate))
    with progress_bar("synth", step_count(cfg)) as step:
        result = generate(cfg, out_dir, progress=step)
    rows = ", ".join(f"{name} {count:,}" for name, count in result.counts.items())
    out.print(f"{result.folder}: {rows}")
    out.print(
        f"truth.csv {result.truth:,} irregularities, near_misses.csv "
        f"{result.near_misses:,} near misses (scale {scale}, seed {seed})"
    )
    out.print(
        f"{FEED}: {result.indicators:,} STIX objects — import with `longpan threat "
        f"import-stix {result.folder / FEED}`; vulnerable_asset truth needs the NVD sample "
        "and KEV (`longpan vuln import-nvd`, `import-kev`; see docs/synth.md)"
    )
