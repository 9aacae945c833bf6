"""Shared threat fixtures: units, a folder of synthetic logs with their STIX bundle."""

from __future__ import annotations

from pathlib import Path

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
