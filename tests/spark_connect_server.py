"""A Spark Connect server on 127.0.0.1 for the tests: the one pyspark ships, on a free port.

pyspark 4.x carries the server in its jars folder (`spark-connect_2.13-<version>.jar`), so it
starts offline. `sbin/start-connect-server.sh` is `spark-submit --class SparkConnectServer` run
through spark-daemon.sh, which forks the JVM as a grandchild; this starts the same class with
`bin/spark-submit` directly, which execs into the JVM, so the process we hold *is* the server:
`stop()` ends it, and on Linux the kernel ends it too when the test process dies without
tearing down (parent-death signal). Local mode on two cores, driver memory capped, no UI,
errors-only logging to a file kept for the failure message.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
START_TIMEOUT_S = 300.0  # a cold JVM on a loaded two-core machine
STOP_TIMEOUT_S = 30.0
PORT_ATTEMPTS = 3  # another process may take the free port between the probe and the bind


def spark_home() -> Path:
    """The pyspark package folder: bin/, sbin/ and jars/ of the Spark it bundles."""
    import pyspark

    return Path(pyspark.__file__).parent


def connect_jar() -> Path | None:
    """The Spark Connect server jar shipped in pyspark's jars folder (None when absent)."""
    return next(iter(sorted((spark_home() / "jars").glob("spark-connect_*.jar"))), None)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    # PR_SET_PDEATHSIG survives the execs from spark-submit into the JVM (not a fork).
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


class ConnectServer:
    """Starts a Spark Connect server on a free 127.0.0.1 port; a context manager."""

    def __init__(self, workdir: Path, driver_memory: str = "1g", log4j: Path | None = None):
        """Prepare a server whose logs and scratch space live in `workdir`."""
        self.workdir = workdir
        self.driver_memory = driver_memory
        self.log4j = log4j
        self.port = 0
        self.log = workdir / "connect-server.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The `sc://` URL clients connect to."""
        return f"sc://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """Process id of the server JVM while it runs."""
        return self._process.pid if self._process is not None else None

    def _command(self) -> list[str]:
        java_options = f"-Dlog4j2.configurationFile={self.log4j.as_uri()}" if self.log4j else ""
        conf = {
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(self.port),
            "spark.port.maxRetries": "0",  # fail on a taken port instead of moving to port + 1
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.shuffle.partitions": "4",
            "spark.default.parallelism": "2",
            "spark.local.dir": str(self.workdir / "scratch"),
            "spark.sql.warehouse.dir": str(self.workdir / "spark-warehouse"),
        }
        command = [str(spark_home() / "bin" / "spark-submit"), "--class", CLASS]
        command += ["--name", "Spark Connect server", "--master", "local[2]"]
        command += ["--driver-memory", self.driver_memory]
        if java_options:
            command += ["--driver-java-options", java_options]
        for name, value in conf.items():
            command += ["--conf", f"{name}={value}"]
        return command  # the launcher adds the primary resource, as for start-connect-server.sh

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SPARK_HOME=str(spark_home()),
            SPARK_LOCAL_IP="127.0.0.1",
            SPARK_LOG_DIR=str(self.workdir),
            SPARK_PID_DIR=str(self.workdir),
        )
        for name in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "PYSPARK_SUBMIT_ARGS"):
            env.pop(name, None)
        return env

    def start(self) -> str:
        """Start the server and wait until it accepts connections; return its URL."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        for attempt in range(PORT_ATTEMPTS):
            self.port = free_port()
            with self.log.open("ab") as log:
                self._process = subprocess.Popen(
                    self._command(),
                    env=self._environment(),
                    cwd=self.workdir,  # nothing the server writes lands in the checkout
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent,
                    start_new_session=True,  # a Ctrl-C in the terminal reaches pytest only
                )
            if self._wait_until_listening():
                return self.url
            if attempt + 1 == PORT_ATTEMPTS or "BindException" not in self.log_tail():
                break
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"the Spark Connect server did not start; {self.log}:\n{tail}")

    def _wait_until_listening(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            time.sleep(0.25)
        return False

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's log."""
        if not self.log.exists():
            return ""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> int | None:
        """Stop the server (SIGTERM, then SIGKILL after a grace period); return its exit code."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        return process.returncode

    def __enter__(self) -> ConnectServer:
        """Start the server."""
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        """Stop the server, whatever happened inside the block."""
        self.stop()
