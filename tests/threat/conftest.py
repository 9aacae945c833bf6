"""Shared threat fixtures: units, a folder of synthetic logs with their STIX bundle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from longpan.core import identifiers as ids
from longpan.synth.logs import LogsConfig, SynthLogs, generate_logs, write_logs
from tests.conftest import SHARED

UNITS = [ids.make_uscc("9", "1", "320100", f"MA1TH{i:03d}") for i in range(4)]
STIX_SAMPLES = SHARED / "data" / "stix"


def generated() -> SynthLogs:
    return generate_logs(UNITS, LogsConfig(seed=7, dns_per_unit=40, flow_per_unit=20,
                                           http_per_unit=20))  # fmt: skip


@pytest.fixture(scope="module")
def logs_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("threat-logs")
    write_logs(generated(), folder)
    return folder


def need_samples() -> Path:
    if not STIX_SAMPLES.is_dir():
        pytest.skip(f"real STIX samples not found at {STIX_SAMPLES} (../shared/data/stix)")
    return STIX_SAMPLES


def indicator(number: int, pattern: str, **extra: Any) -> dict[str, Any]:
    """A STIX 2.1 indicator valid from 1 June 2024, its id ending in ``number``."""
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--00000000-0000-4000-8000-{number:012d}",
        "created": "2024-06-01T00:00:00Z",
        "modified": "2024-06-01T00:00:00Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2024-06-01T00:00:00Z",
        **extra,
    }


def write_bundle(path: Path, objects: list[dict[str, Any]]) -> Path:
    """``objects`` as a STIX bundle file at ``path``."""
    bundle = {"type": "bundle", "id": f"bundle--{path.stem}", "objects": objects}
    path.write_text(json.dumps(bundle), "utf-8")
    return path
