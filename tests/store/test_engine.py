"""The analytics engines' configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from longpan.core.errors import ConfigError
from longpan.core.settings import load_settings
from longpan.store.engine import SPARK_DEFAULTS
from tests.conftest import make_workspace, spark_available


def test_spark_conf_is_read_as_json_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LONGPAN_SPARK_CONF", '{"spark.sql.shuffle.partitions": "64"}')
    assert load_settings().spark_conf == {"spark.sql.shuffle.partitions": "64"}
    monkeypatch.setenv("LONGPAN_SPARK_CONF", "shuffle=64")
    with pytest.raises(ConfigError, match="LONGPAN_SPARK_CONF"):
        load_settings()


@pytest.mark.spark
def test_spark_conf_overrides_the_engine_defaults(tmp_path: Path) -> None:
    if not spark_available():
        pytest.skip("pyspark not installed: pip install 'longpan[spark]'")
    ws = make_workspace(tmp_path, spark_conf={"spark.sql.shuffle.partitions": "7"})
    try:
        session = ws.analytics("spark").backend._session
        assert session.conf.get("spark.sql.shuffle.partitions") == "7"
        assert session.conf.get("spark.sql.session.timeZone") == "UTC"  # defaults kept
    finally:  # one JVM per process: give later tests the default back
        session.conf.set(
            "spark.sql.shuffle.partitions", SPARK_DEFAULTS["spark.sql.shuffle.partitions"]
        )
        ws.close()
