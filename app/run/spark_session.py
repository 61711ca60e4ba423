"""Spark sessions: local mode in this process, or Spark Connect at the `spark_remote` URL.

Local mode is one process-wide session (`local[2]`, driver bound to 127.0.0.1, no UI, errors-only
logging); each warehouse takes a `newSession()` of it. Over Spark Connect each warehouse opens a
server session of its own (`builder.create()`), after checking that something listens at the URL:
the Connect client would otherwise retry an unreachable server for about ten minutes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from app.core.errors import AssistantError
from app.core.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOCAL_CONF: dict[str, str] = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.memory": "2g",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "2",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",  # list on the driver
    "spark.sql.ansi.enabled": "true",
    # Spark makes its (unused: views only) default database folder there, not in the working dir.
    "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "ledgerlens-spark-warehouse"),
}
# Left to the server: a Spark Connect cluster keeps its own (the warehouse folder is static).
SERVER_CONF = {"spark.sql.shuffle.partitions", "spark.sql.warehouse.dir"}
# SQL settings every session gets.
SESSION_CONF = {
    k: v for k, v in LOCAL_CONF.items() if k.startswith("spark.sql.") and k not in SERVER_CONF
}
CONNECT_PORT = 15002  # Spark Connect's default port
CONNECT_PROBE_S = 5.0  # the Connect client itself retries an unreachable server for ~10 minutes
LOG4J2 = Path(__file__).with_name("log4j2.properties")  # errors only, on stderr
# pyspark logs every failed query with its JVM stack trace as JSON on stderr (Connect too).
QUERY_CONTEXT_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")
_SESSIONS: dict[str, SparkSession] = {}
_SESSIONS_LOCK = threading.Lock()


class SparkUnavailable(AssistantError):
    """Spark cannot start here (no Java, no pyspark) or cannot reach its Connect server."""


def find_java() -> str | None:
    """Path of the `java` executable Spark would start (JAVA_HOME first, then PATH)."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


@contextlib.contextmanager
def _quiet_imports() -> Iterator[None]:
    # pyspark warns at import time about pandas versions it has not certified yet.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\..*")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pyspark\..*")
        yield


def _builder() -> Any:
    for name in QUERY_CONTEXT_LOGGERS:  # each failure reaches the caller as an ExecutionError
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        with _quiet_imports():
            from pyspark.sql import SparkSession
    except ImportError as err:
        raise SparkUnavailable(
            "The Spark engine needs pyspark: pip install 'ledgerlens[spark]'."
        ) from err
    return SparkSession.builder


def spark_session(settings: Settings) -> SparkSession:
    """The process-wide Spark session: local mode, or Spark Connect at `spark_remote`."""
    key = settings.spark_remote or "local"
    with _SESSIONS_LOCK:
        if key in _SESSIONS:
            return _SESSIONS[key]
        if settings.spark_remote:
            _SESSIONS[key] = connect_session(settings.spark_remote)
            return _SESSIONS[key]
        if find_java() is None:
            raise SparkUnavailable(
                "Spark needs a Java runtime (17 or newer): install one (Debian: "
                "apt-get install default-jre-headless) or set JAVA_HOME."
            )
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = _builder().appName("ledgerlens").master("local[2]")
        for name, value in LOCAL_CONF.items():
            builder = builder.config(name, value)
        java_logging = f"-Dlog4j2.configurationFile={LOG4J2.as_uri()}"
        builder = builder.config("spark.driver.extraJavaOptions", java_logging)
        try:
            with _quiet_imports():
                session: SparkSession = builder.getOrCreate()
        except Exception as err:  # pyspark raises bare RuntimeError/PySparkException/Py4JError
            raise SparkUnavailable(f"Spark did not start ({key}): {err}") from err
        session.sparkContext.setLogLevel("ERROR")
        _SESSIONS[key] = session
        return session


def connect_address(url: str) -> tuple[str, int]:
    """Host and port of a Spark Connect URL (`sc://host[:port][/;param=value...]`)."""
    parts = urlsplit(url)
    try:
        port = parts.port or CONNECT_PORT
    except ValueError:
        port = None
    if parts.scheme != "sc" or not parts.hostname or port is None:
        example = f"sc://host:{CONNECT_PORT}"
        raise SparkUnavailable(f"`spark_remote` must look like {example}, not {url!r}")
    return parts.hostname, port


def connect_session(url: str) -> SparkSession:
    """A new Spark Connect session at `url`, with its own temp views and SQL settings."""
    host, port = connect_address(url)
    try:  # fail now, not after the client's retries, when nothing listens there
        socket.create_connection((host, port), timeout=CONNECT_PROBE_S).close()
    except OSError as err:
        raise SparkUnavailable(
            f"No Spark Connect server answers at {host}:{port} ({err}); start one (README "
            '"Spark Connect") or correct the `spark_remote` setting.'
        ) from err
    try:
        with _quiet_imports():
            # create(), not getOrCreate(): that returns the process's existing Connect session
            # whatever its URL, and shares its temp views with every other warehouse.
            session: SparkSession = _builder().appName("ledgerlens").remote(url).create()
    except ImportError as err:  # the Connect client needs grpcio (pyspark[connect])
        raise SparkUnavailable(
            f"The Spark Connect client is not installed ({err}): pip install 'ledgerlens[spark]'."
        ) from err
    except Exception as err:  # PySparkException and gRPC errors share no base class
        raise SparkUnavailable(f"Spark Connect did not start ({url}): {err}") from err
    return session


def stop_sessions() -> None:
    """Stop every Spark session this process started (the JVM also ends with the process)."""
    with _SESSIONS_LOCK:
        for session in _SESSIONS.values():
            with contextlib.suppress(Exception):
                session.stop()
        _SESSIONS.clear()
