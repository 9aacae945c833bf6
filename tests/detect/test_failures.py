"""A failing or contract-breaking detector is recorded, and harms nothing else."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from sqlalchemy import select

from longpan.compliance.dissolved_subject import DissolvedSubject
from longpan.core.errors import ConfigError, DetectorError, MissingExtraError
from longpan.core.extras import require
from longpan.detect.base import DetectionContext, Detector, FindingDraft
from longpan.detect.runner import run_detection
from longpan.resources.ingest import ingest_folder
from longpan.store.models import DetectionRun, Finding
from longpan.store.workspace import Workspace
from tests.conftest import EXAMPLE


class Exploding(Detector):
    id = "exploding"
    version = "0.0.1"
    capability = "G2"
    description = "raises half-way"
    inputs = ("entities",)
    finding_types = ("exploding",)

    def detect(self, ctx: DetectionContext) -> Iterable[FindingDraft]:
        yield FindingDraft("exploding", "a.example.com", "low", {})
        raise ZeroDivisionError("boom")


class Undeclared(Exploding):
    id = "undeclared"
    finding_types = ("undeclared",)

    def detect(self, ctx: DetectionContext) -> Iterable[FindingDraft]:
        yield FindingDraft("something_else", "a.example.com", "low", {})


class Snooping(Exploding):
    id = "snooping"
    finding_types = ("snooping",)

    def detect(self, ctx: DetectionContext) -> Iterable[FindingDraft]:
        ctx.table("web_crawls")  # not among its declared inputs
        return []


def test_failures_are_recorded_and_others_still_land(sqlite_ws: Workspace) -> None:
    ingest_folder(sqlite_ws, EXAMPLE)
    result = run_detection(sqlite_ws, detectors=[Exploding, Undeclared, Snooping, DissolvedSubject])
    assert result.status == "failed"
    assert "ZeroDivisionError" in result.errors["exploding"]
    assert "undeclared finding type" in result.errors["undeclared"]
    assert "not among the detector's declared inputs" in result.errors["snooping"]
    with sqlite_ws.sessions() as session:
        types = set(session.scalars(select(Finding.type)))
        run = session.get_one(DetectionRun, result.run_id)
    assert types == {"dissolved_subject"}  # nothing half-written by the failing ones
    assert run.status == "failed" and run.error and "exploding" in run.error


def test_bad_params_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="invalid parameters"):
        DissolvedSubject({"no_such_param": 1})


def test_contract_check_catches_missing_declarations() -> None:
    class Incomplete(Exploding):
        inputs = ("no_such_dataset",)

    with pytest.raises(DetectorError, match="unknown input datasets"):
        Incomplete.check_contract()


def test_missing_extra_names_the_pip_line() -> None:
    with pytest.raises(MissingExtraError, match=r"pip install 'longpan\[spark\]'"):
        require("spark", "longpan_no_such_module")


def test_thresholds_come_from_settings(tmp_path: object) -> None:
    from pathlib import Path

    from tests.conftest import make_workspace

    assert isinstance(tmp_path, Path)
    ws = make_workspace(tmp_path / "a", detectors={"no_such_detector": {}})
    with pytest.raises(ConfigError, match="unknown detector"):
        run_detection(ws)
    ws = make_workspace(tmp_path / "b", detectors={"dissolved_subject": {"bogus": 1}})
    with pytest.raises(ConfigError, match="invalid parameters"):
        run_detection(ws)
