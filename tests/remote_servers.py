"""Real SPARQL servers on 127.0.0.1 for the remote-store suite: Oxigraph server (PyPI ``oxigraph``) and
Virtuoso (Debian ``virtuoso-opensource``), each in a temporary folder with its own configuration."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from sparql_helpers import free_port, stop_process

OXIGRAPH = Path(sys.executable).with_name("oxigraph")
VIRTUOSO = shutil.which("virtuoso-t")
VIRTUOSO_VSP = Path("/var/lib/virtuoso-opensource-7/vsp")

# Loopback only; results up to a million rows (the default 10,000 would cut dumps, and the store refuses
# cut answers); a query stopped by the server itself after 60 s. The up-front cost estimate is off
# (MaxQueryCostEstimationTime=0): Virtuoso 7.2 refused an ordinary moderation update with "estimated
# execution time 0 (sec) exceeds the limit of 600 (sec)".
VIRTUOSO_INI = """[Database]
DatabaseFile={db}/virtuoso.db
ErrorLogFile={db}/virtuoso.log
LockFile={db}/virtuoso.lck
TransactionFile={db}/virtuoso.trx
xa_persistent_file={db}/virtuoso.pxa
[TempDatabase]
DatabaseFile={db}/virtuoso-temp.db
TransactionFile={db}/virtuoso-temp.trx
[Parameters]
ServerPort=127.0.0.1:{sql_port}
DirsAllowed={dirs}
NumberOfBuffers={buffers}
MaxDirtyBuffers={dirty}
[HTTPServer]
ServerPort=127.0.0.1:{http_port}
ServerRoot={vsp}
ServerThreads=10
[SPARQL]
ResultSetMaxRows={max_rows}
MaxQueryExecutionTime=60
MaxQueryCostEstimationTime=0
"""


def virtuoso_ini(
    db: Path,
    sql_port: int,
    http_port: int,
    *,
    dirs: tuple[Path, ...] = (),
    buffers: int = 170_000,
    max_rows: int = 1_000_000,
) -> str:
    """The configuration above; bench/scale.py sizes its buffers and row limit for 20M quads."""
    return VIRTUOSO_INI.format(
        db=db,
        sql_port=sql_port,
        http_port=http_port,
        vsp=VIRTUOSO_VSP,
        dirs=", ".join([".", str(db), *map(str, dirs)]),
        buffers=buffers,
        dirty=buffers * 3 // 4,
        max_rows=max_rows,
    )


@dataclass
class SparqlServer:
    """One server process; ``stop``/``start`` keep its data and port (outage tests)."""

    kind: str
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def location(self) -> str:
        if self.kind == "oxigraph":
            return f"sparql+http://127.0.0.1:{self.port}/query"
        return f"sparql+http://dba:dba@127.0.0.1:{self.port}/sparql"

    @property
    def probe(self) -> str:
        path = "/query" if self.kind == "oxigraph" else "/sparql"
        return f"http://127.0.0.1:{self.port}{path}?query=ASK%7B%7D"

    def command(self) -> list[str]:
        if self.kind == "oxigraph":
            db = self.folder / "db"
            return [str(OXIGRAPH), "serve", "--location", str(db), "--bind", f"127.0.0.1:{self.port}"]
        db = self.folder / "db"
        db.mkdir(parents=True, exist_ok=True)
        ini = self.folder / "virtuoso.ini"
        if not ini.exists():
            ini.write_text(virtuoso_ini(db, free_port(), self.port))
        return [str(VIRTUOSO), "+configfile", str(ini), "+foreground"]

    def start(self, wait: float = 90) -> None:
        log = (self.folder / f"{self.kind}.log").open("a")
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.folder, start_new_session=True
        )
        deadline = time.monotonic() + wait
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"{self.kind} exited: {(self.folder / f'{self.kind}.log').read_text()[-2000:]}"
                    )
                try:
                    urllib.request.urlopen(self.probe, timeout=2).read()
                    return
                except (OSError, urllib.error.URLError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
        except BaseException:  # a server that never answered is not left running
            self.stop()
            raise

    def stop(self) -> None:
        if self.process is None:
            return
        # Virtuoso checkpoints on SIGTERM; SIGKILL after 20 s would lose only what it never acknowledged.
        stop_process(self.process)
        self.process = None


def available(kind: str) -> str | None:
    """Why a server cannot run here, or None (the Makefile installs both)."""
    if kind == "oxigraph" and not OXIGRAPH.exists():
        return f"{OXIGRAPH} is missing: pip install -e '.[dev]' installs the oxigraph server"
    if kind == "virtuoso" and VIRTUOSO is None:
        return "virtuoso-t is missing: `make system-deps` installs Debian's virtuoso-opensource"
    return None
