"""A real single-node Apache Kafka (KRaft) for local runs and tests, built from Maven Central jars.

The jars are fetched once into a cache shared by every clone (``~/.cache/childsafe``); data, logs
and the pid file live under one run folder, so a second ``up`` reuses what is there.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ops.errors import ChildSafeOpsError

KAFKA_VERSION = "4.3.1"
DEFAULT_CACHE = Path(os.environ.get("CHILDSAFE_CACHE", Path.home() / ".cache" / "childsafe"))


class LocalKafkaError(ChildSafeOpsError):
    """The local broker could not be fetched or started: read the broker log named in the message."""


def _alive(pid: int) -> bool:
    """True while ``pid`` runs. A child that exited but was not yet reaped (a zombie) is reaped and not alive."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    if state == "Z":
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass  # not our child: its own parent will reap it
        return False
    return True


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class LocalKafka:
    """One KRaft node (broker + controller). Alone by default; ``LocalKafkaCluster`` sets the quorum fields."""

    run_dir: Path
    port: int = 9092
    controller_port: int = 9093
    version: str = KAFKA_VERSION
    cache_dir: Path = DEFAULT_CACHE
    node_id: int = 1
    voters: str = ""  # controller.quorum.voters; empty: this node alone
    cluster_id: str = ""  # shared by a cluster's nodes; empty: a fresh one at the first format
    replication: int = 1  # internal topics' replication factor
    heap: str = "768m"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def libs_dir(self) -> Path:
        return self.cache_dir / f"kafka-{self.version}" / "libs"

    @property
    def data_dir(self) -> Path:
        return self.run_dir / "data"

    @property
    def logs_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / "kafka.pid"

    # -- artifacts ---------------------------------------------------------------------------
    def fetch(self) -> Path:
        """Resolve the broker jars from Maven Central once; later calls return the cache."""
        marker = self.libs_dir / ".complete"
        if marker.exists():
            return self.libs_dir
        if shutil.which("mvn") is None:
            raise LocalKafkaError("Maven (mvn) is not installed: apt-get install maven")
        work = self.libs_dir.parent / "build"
        work.mkdir(parents=True, exist_ok=True)
        pom = resources.files("ops.kafka").joinpath("pom.xml").read_text()
        (work / "pom.xml").write_text(pom.replace("@KAFKA_VERSION@", self.version))
        tmp_libs = self.libs_dir.parent / "libs.partial"
        shutil.rmtree(tmp_libs, ignore_errors=True)
        proc = subprocess.run(
            ["mvn", "-q", "-B", "dependency:copy-dependencies", f"-DoutputDirectory={tmp_libs}"],
            cwd=work, capture_output=True, text=True,
        )
        if proc.returncode != 0:
            raise LocalKafkaError(f"fetching Kafka {self.version} jars failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        shutil.rmtree(self.libs_dir, ignore_errors=True)
        tmp_libs.rename(self.libs_dir)
        marker.touch()
        return self.libs_dir

    # -- lifecycle ---------------------------------------------------------------------------
    def _properties(self) -> str:
        min_isr = 2 if self.replication >= 3 else 1
        return "\n".join([
            "process.roles=broker,controller",
            f"node.id={self.node_id}",
            f"controller.quorum.voters={self.voters or f'{self.node_id}@127.0.0.1:{self.controller_port}'}",
            f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={self.data_dir}",
            "num.partitions=1",
            "auto.create.topics.enable=false",
            f"offsets.topic.replication.factor={self.replication}",
            "offsets.topic.num.partitions=10",
            f"transaction.state.log.replication.factor={self.replication}",
            f"transaction.state.log.min.isr={min_isr}",
            "transaction.state.log.num.partitions=4",
            f"share.coordinator.state.topic.replication.factor={self.replication}",
            f"share.coordinator.state.topic.min.isr={min_isr}",
            f"default.replication.factor={self.replication}",
            f"min.insync.replicas={min_isr}",
            "unclean.leader.election.enable=false",
            # Local stack: a consumer group forms at once instead of waiting 3 s for more members.
            "group.initial.rebalance.delay.ms=0",
            # Let clients choose short session timeouts so a killed worker is noticed in seconds.
            "group.min.session.timeout.ms=1000",
            "log.retention.hours=168",
            "",
        ])

    def _java(self) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise LocalKafkaError("Java is not installed: apt-get install openjdk-17-jre-headless")
        log4j = resources.files("ops.kafka").joinpath("log4j2.properties")
        return [
            java, "-Xms256m", f"-Xmx{self.heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}", f"-Dkafka.logs.dir={self.logs_dir}",
            "-cp", f"{self.libs_dir}/*",
        ]

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _alive(pid) else None

    def answers(self, timeout: float = 2.0) -> bool:
        """True when the broker serves metadata on its listener."""
        from kafka import KafkaAdminClient
        from kafka.errors import KafkaError

        if not _listening(self.port):  # the admin client would spend many seconds retrying a closed port
            return False
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=int(timeout * 1000))
        except (KafkaError, OSError, ValueError):
            return False
        try:
            admin.describe_cluster()
            return True
        except (KafkaError, OSError):
            return False
        finally:
            admin.close()

    def up(self, timeout: float = 60.0) -> float:
        """Start the broker (or reuse one already answering on the port) and return seconds until it answered."""
        started = time.monotonic()
        if self.answers():  # ours from an earlier `up`, or a broker someone else runs on this port
            return 0.0
        proc = self.start()
        return self.wait(proc, timeout, started)

    def start(self) -> subprocess.Popen:
        """Format the storage on first use and start the JVM; returns without waiting for it to answer."""
        self.fetch()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        props = self.run_dir / "server.properties"
        props.write_text(self._properties())
        if not (self.data_dir / "meta.properties").exists():
            cluster_id = self.cluster_id or uuid.uuid4().hex[:22]
            fmt = subprocess.run(
                [*self._java(), "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props),
                 "--ignore-formatted"], capture_output=True, text=True,
            )
            if fmt.returncode != 0:
                raise LocalKafkaError(f"formatting {self.data_dir} failed:\n{fmt.stdout}{fmt.stderr}")
        out = open(self.logs_dir / "stdout.log", "ab")
        proc = subprocess.Popen([*self._java(), "kafka.Kafka", str(props)], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.pid_file.write_text(str(proc.pid))
        return proc

    def wait(self, proc: subprocess.Popen | None = None, timeout: float = 60.0, started: float | None = None) -> float:
        """Seconds until the node answered (a cluster's node answers once its controller quorum formed)."""
        started = started or time.monotonic()
        while time.monotonic() - started < timeout:
            if proc is not None and proc.poll() is not None:
                raise LocalKafkaError(f"Kafka exited with {proc.returncode}; see {self.logs_dir}/server.log")
            if self.answers(timeout=1.0):
                return time.monotonic() - started
            time.sleep(0.3)
        raise LocalKafkaError(f"Kafka did not answer on {self.bootstrap} within {timeout:.0f}s; "
                              f"see {self.logs_dir}/server.log")

    def kill(self) -> bool:
        """SIGKILL: the broker dies mid-write, as a crashed machine would. False if none ran."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)
        return True

    def down(self, timeout: float = 30.0) -> bool:
        """Stop the broker cleanly (SIGTERM, then SIGKILL after ``timeout``). False if none ran."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            time.sleep(0.2)
        else:
            os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> dict[str, object]:
        pid = self.pid()
        return {"bootstrap": self.bootstrap, "version": self.version, "pid": pid,
                "answers": pid is not None and self.answers(), "run_dir": str(self.run_dir)}


@dataclass(frozen=True)
class LocalKafkaCluster:
    """``brokers`` KRaft nodes on this machine, each broker and controller (a quorum of ``brokers`` voters), from
    the same Maven jars. Node ``i`` listens on ``ports[i]`` (broker, controller); the cluster id is kept in the run
    folder so a restart finds its data."""

    run_dir: Path
    ports: tuple[tuple[int, int], ...]
    cache_dir: Path = DEFAULT_CACHE
    heap: str = "512m"

    @classmethod
    def on_ports(cls, run_dir: Path, brokers: int, port: int, controller_port: int, **extra) -> LocalKafkaCluster:
        """Node i on ``port + 10 i`` and ``controller_port + 10 i`` (9092/9093, 9102/9103, 9112/9113 by default)."""
        return cls(run_dir, tuple((port + 10 * i, controller_port + 10 * i) for i in range(brokers)), **extra)

    @classmethod
    def on_free_ports(cls, run_dir: Path, brokers: int, **extra) -> LocalKafkaCluster:
        return cls(run_dir, tuple((free_port(), free_port()) for _ in range(brokers)), **extra)

    @property
    def cluster_id(self) -> str:
        path = self.run_dir / "cluster.id"
        if not path.exists():
            self.run_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(uuid.uuid4().hex[:22])
        return path.read_text().strip()

    @property
    def nodes(self) -> list[LocalKafka]:
        voters = ",".join(f"{i + 1}@127.0.0.1:{c}" for i, (_, c) in enumerate(self.ports))
        cluster_id = self.cluster_id
        return [LocalKafka(self.run_dir / f"node-{i + 1}", port=p, controller_port=c, cache_dir=self.cache_dir,
                           node_id=i + 1, voters=voters, cluster_id=cluster_id, replication=min(3, len(self.ports)),
                           heap=self.heap) for i, (p, c) in enumerate(self.ports)]

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{p}" for p, _ in self.ports)

    def up(self, timeout: float = 300.0) -> float:
        """Start every node that does not answer yet (formatting and starting them in parallel), then wait for
        all: the quorum needs a majority to form."""
        from concurrent.futures import ThreadPoolExecutor

        started = time.monotonic()
        nodes = self.nodes
        with ThreadPoolExecutor(len(nodes)) as pool:
            procs = list(pool.map(lambda n: None if n.answers() else n.start(), nodes))
        for node, proc in zip(nodes, procs, strict=True):
            if proc is not None:
                node.wait(proc, timeout, started)
        return time.monotonic() - started

    def down(self) -> int:
        return sum(node.down() for node in self.nodes)

    def status(self) -> list[dict[str, object]]:
        return [node.status() for node in self.nodes]
