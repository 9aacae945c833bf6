"""Finding-type display names come from the detectors that declare the types."""

from __future__ import annotations

from longpan.detect.registry import finding_type_title, finding_types


def test_every_builtin_compliance_type_has_chinese_and_english_titles() -> None:
    assert finding_type_title("unfiled_website") == "未备案网站"
    assert finding_type_title("unfiled_website", "en") == "Unfiled website"
    for finding_type, cls in finding_types().items():
        if cls.capability == "G2":
            assert finding_type_title(finding_type) != finding_type
            assert finding_type_title(finding_type, "en") != finding_type


def test_unknown_type_falls_back_to_its_id() -> None:
    assert finding_type_title("no_such_type") == "no_such_type"
