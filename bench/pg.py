"""A throwaway PostgreSQL cluster for bench/inbound.py and bench/chaos.py (initdb in a temp folder,
loopback only). As root, the server runs as `nobody` (PostgreSQL refuses to run as root)."""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def available() -> bool:
    return shutil.which("initdb") is not None and shutil.which("pg_ctl") is not None


class TempPostgres:
    def __init__(self, port: int):
        self.port = port
        self.folder = Path(tempfile.mkdtemp(prefix="tikabot-pg-"))
        self.data = self.folder / "data"
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam("nobody")
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)

    def _run(self, argv: list[str], check: bool = True, wait: bool = True):
        kwargs = {}
        if self.user is not None:
            uid, gid = self.user.pw_uid, self.user.pw_gid

            def demote():
                os.setgid(gid)
                os.setuid(uid)
            kwargs["preexec_fn"] = demote
        if not wait:
            return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
        return subprocess.run(argv, check=check, capture_output=True, text=True, **kwargs)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://bench@127.0.0.1:{self.port}/bench"

    def init(self) -> "TempPostgres":
        self._run(["initdb", "-D", str(self.data), "-U", "bench", "--auth=trust", "-E", "UTF8"])
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.folder}'\n"
                       "max_connections = 200\nfsync = on\nsynchronous_commit = on\nshared_buffers = 128MB\n")
        self.start()
        self._run(["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "bench", "bench"])
        return self

    def start(self) -> None:
        self._run(["pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"), "-w", "start"])

    def stop(self, mode: str = "fast") -> None:
        self._run(["pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop"], check=False)

    def pids(self) -> list[int]:
        """The postmaster and its backends (for CPU accounting)."""
        try:
            master = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError):
            return []
        found = [master]
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                        found.append(int(entry.name))
                except (OSError, IndexError, ValueError):
                    pass
        return found

    def close(self) -> None:
        self.stop("immediate")
        time.sleep(0.2)
        shutil.rmtree(self.folder, ignore_errors=True)
