"""``longpan eval``: compare the open findings with a ground-truth file.

TRUTH.csv has columns finding_type and subject (others ignored). Subjects are put in
canonical form before comparing. Precision is tp / (tp + fp) and recall tp / (tp + fn);
each is 1.0 when its denominator is 0 (nothing claimed / nothing to find).

A type whose detector reads a dataset the lake has never received (threat indicators
not imported, no vulnerability records) cannot be found at all: given the datasets the
lake holds, each type's scores also list those ``missing_inputs``, so that a recall of 0
reads as "not loaded" rather than "missed".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from longpan.core.errors import InputError
from longpan.core.subjects import canonical_subject
from longpan.detect.findings import open_findings
from longpan.detect.registry import finding_types
from longpan.resources.exchange.reader import decode_utf8

TRUTH_COLUMNS = ("finding_type", "subject")


def read_truth(path: Path) -> set[tuple[str, str]]:
    if not path.is_file():
        raise InputError(f"no such file: {path}", file=str(path))
    reader = csv.DictReader(io.StringIO(decode_utf8(path, path.read_bytes()), newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in TRUTH_COLUMNS if c not in header]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}", file=str(path), line=1, column=missing[0]
        )
    truth: set[tuple[str, str]] = set()
    for row in reader:
        finding_type = (row.get("finding_type") or "").strip()
        subject = (row.get("subject") or "").strip()
        if not finding_type or not subject:
            raise InputError(
                "finding_type and subject are both required",
                file=str(path),
                line=reader.line_num,
                column="finding_type" if not finding_type else "subject",
            )
        truth.add((finding_type, canonical_subject(subject)))
    return truth


def _scores(tp: int, fp: int, fn: int) -> dict[str, Any]:
    return {
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def evaluate(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, Any]:
    """Per-type and overall precision/recall of ``found`` against ``truth``."""
    by_type: dict[str, Any] = {}
    for finding_type in sorted({t for t, _ in found | truth}):
        f = {s for t, s in found if t == finding_type}
        g = {s for t, s in truth if t == finding_type}
        by_type[finding_type] = _scores(len(f & g), len(f - g), len(g - f))
    overall = _scores(len(found & truth), len(found - truth), len(truth - found))
    return {"by_type": by_type, "overall": overall}


def evaluate_database(
    session: Session, truth_path: Path, loaded: Collection[str] | None = None
) -> dict[str, Any]:
    """Score the database's open findings against the truth file; given the datasets
    the lake holds (``loaded``), each type also lists its detector's missing inputs."""
    scores = evaluate(open_findings(session), read_truth(truth_path))
    if loaded is not None:
        for finding_type, score in scores["by_type"].items():
            score["missing_inputs"] = missing_inputs(finding_type, loaded)
    return scores


def missing_inputs(finding_type: str, loaded: Collection[str]) -> list[str]:
    """The datasets the detector of ``finding_type`` reads that are not in ``loaded``
    (none for a type no registered detector produces)."""
    cls = finding_types().get(finding_type)
    return [d for d in cls.inputs if d not in loaded] if cls else []
