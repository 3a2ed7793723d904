"""Two learners on one machine (a JupyterHub): learner A's course answers A only.

Two throwaway Unix users. A starts the course's services from this checkout (Redis, the mail catcher, the app, the
dashboard, a worker) and queues a job. B, with nothing but a socket and the file system, tries A's Redis, A's state
folder and A's processes; every attempt and what it got is printed (``pytest -s`` or ``-rA`` shows it). Afterwards
A's course still works and has lost nothing. Creating users needs root (CI runs as root); elsewhere it is skipped.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from support.services import state

pytestmark = [
    pytest.mark.skipif(
        (os.geteuid() != 0 or shutil.which("useradd") is None) and not os.environ.get("CI"),
        reason="needs root and useradd to create two Unix users (CI runs as root, and never skips it)",
    ),
    pytest.mark.slow,
]  # two Unix users and their processes: not in make test-fast


@dataclass
class Learner:
    name: str
    uid: int
    gid: int
    home: Path

    @property
    def course(self) -> Path:
        return self.home / "course"

    def run(self, code: str, stdin: str = "", timeout: float = 180) -> str:
        """Run Python `code` as this user (no other groups, this checkout's interpreter); its stdout."""
        env = {
            "HOME": str(self.home),
            "USER": self.name,
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "COURSE_HOME": str(self.course),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        done = subprocess.run(
            [sys.executable, "-c", code],
            input=stdin,
            capture_output=True,
            text=True,
            user=self.uid,
            group=self.gid,
            extra_groups=[],
            env=env,
            cwd=self.home,
            timeout=timeout,
        )
        assert done.returncode == 0, f"as {self.name}: {done.stderr[-3000:]}"
        return done.stdout

    def processes(self) -> list[psutil.Process]:
        return [p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == self.uid]


@contextmanager
def unix_user(tag: str) -> Iterator[Learner]:
    """A new Unix user with a home of its own; removed afterwards with its files and every process it runs."""
    name = f"course12{tag}{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--create-home", "--user-group", "--shell", "/bin/sh", name], check=True)
    entry = pwd.getpwnam(name)
    learner = Learner(name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))
    try:
        os.chmod(learner.home, 0o711)  # as on many hosts: others may pass through a home, not list it
        yield learner
    finally:
        leftovers = learner.processes()  # every process of this throwaway user is one this test started
        for proc in leftovers:
            try:
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(leftovers, timeout=10)
        subprocess.run(["userdel", "--remove", name], capture_output=True)
        shutil.rmtree(learner.home, ignore_errors=True)


@contextmanager
def reachable_by_others(*paths: Path) -> Iterator[None]:
    """Let other users pass through every folder above `paths` (o+x) while the test runs, as a shared host has its
    course checkout and Python; each folder changed gets its mode back afterwards."""
    changed: dict[Path, int] = {}
    for path in paths:
        for folder in [path, *path.parents]:
            mode = stat.S_IMODE(folder.stat().st_mode)
            if folder not in changed and not mode & stat.S_IXOTH:
                changed[folder] = mode
                os.chmod(folder, mode | stat.S_IXOTH)
    try:
        yield
    finally:
        for folder, mode in changed.items():
            os.chmod(folder, mode)


START = """
import json
from support.rq_helpers import queues, workers
from support.services import course, inbox, processes, redis_server
services = course.up("redis", "catcher", "app", "dashboard", delivery="background", delay=0, quiet=True)
workers.start_worker(with_scheduler=False)
redis_server.connect().set("a:precious", "mine")
queues.queue("mailers").enqueue("support.jobs.send_gif_email", "before@example.com", "before", 0)
assert processes.wait_until(lambda: len(inbox.to_address("before@example.com")) == 1, 60), "no email before"
print(json.dumps({"redis_port": services["redis"].port, "keys": redis_server.connect().dbsize(),
                  "app_port": services["app"].port, "dashboard_port": services["dashboard"].port}))
"""

AFTER = """
import json
from support.rq_helpers import queues
from support.services import course, inbox, processes, redis_server
r = redis_server.connect()
queues.queue("mailers").enqueue("support.jobs.send_gif_email", "after@example.com", "after", 0)
caught = processes.wait_until(lambda: len(inbox.to_address("after@example.com")) == 1, 60)
print(json.dumps({"caught": caught, "precious": r.get("a:precious").decode(), "keys": r.dbsize(),
                  "before": len(inbox.to_address("before@example.com")),
                  "thoughts": len(inbox.to_address("b@example.com"))}))  # B's form post sent nothing
course.down()
"""

ATTACK = r"""
import json, os, socket, sys
plan = json.load(sys.stdin)
results = []

def ask(*words):
    with socket.create_connection(("127.0.0.1", plan["port"]), timeout=5) as s:
        s.sendall(f"*{len(words)}\r\n".encode() + b"".join(f"${len(w)}\r\n{w}\r\n".encode() for w in words))
        return s.recv(4096).decode(errors="replace").strip()

for words in (["PING"], ["DBSIZE"], ["KEYS", "*"], ["CONFIG", "GET", "dir"], ["FLUSHALL"],
              ["AUTH", "wrong-password"], ["AUTH", "default", "wrong-password"]):
    results.append({"kind": "redis", "attack": " ".join(words), "result": ask(*words)})

def attempt(kind, what, action):
    try:
        got = action()
        results.append({"kind": kind, "attack": what, "result": "READ", "got": got})
    except OSError as exc:
        results.append({"kind": kind, "attack": what, "result": f"{type(exc).__name__}: {exc.strerror}"})

def http(method, port, path, body=b""):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded"
                  f"\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        return s.recv(4096).decode(errors="replace").split("\r\n", 1)[0]

for method, service, path, body in (
        ("GET", "app", "/", b""), ("POST", "app", "/mailers", b"email=b%40example.com&thought=hi"),
        ("GET", "app", "/?course_token=guess", b""),
        ("GET", "dashboard", "/", b""), ("GET", "dashboard", "/0/data/queues.json", b""),
        ("POST", "dashboard", "/requeue/mailers", b""), ("POST", "dashboard", "/queue/mailers/failed/empty", b"")):
    results.append({"kind": "http", "attack": f"{method} {service} {path}",
                    "result": http(method, plan[service + "_port"], path, body)})

for path in plan["files"]:
    attempt("file", f"read {path}", lambda: open(path, "rb").read(64).decode(errors="replace"))
for path in plan["folders"]:
    attempt("folder", f"list {path}", lambda: os.listdir(path))
for pid in plan["pids"]:
    attempt("cmdline", f"read /proc/{pid}/cmdline", lambda: open(f"/proc/{pid}/cmdline").read().replace("\0", " "))
    attempt("environ", f"read /proc/{pid}/environ", lambda: open(f"/proc/{pid}/environ").read()[:64])
print(json.dumps(results))
"""


def test_learner_b_can_neither_use_nor_read_learner_as_course() -> None:
    python = Path(sys.executable)
    with (
        reachable_by_others(state.REPO_ROOT, python.parent, python.resolve().parent),
        unix_user("a") as a,
        unix_user("b") as b,
    ):
        started = json.loads(a.run(START))
        secret = (a.course / "redis-password").read_text().strip()
        files = [
            a.course / name for name in ("state.json", "state.lock", "redis-password", "redis.conf", "access_token")
        ]
        files += sorted((a.course / "redis").rglob("*.aof")) + sorted((a.course / "maildir" / "new").iterdir())
        files += sorted((a.course / "logs").iterdir())
        folders = [a.course, a.course / "redis", a.course / "maildir", a.course / "maildir" / "new", a.course / "logs"]
        pids = [p.pid for p in a.processes()]
        assert len(pids) >= 5 and any(f.name.endswith(".incr.aof") for f in files)
        listening = {c.laddr.ip for p in a.processes() for c in p.net_connections("inet") if c.status == "LISTEN"}
        assert listening == {"127.0.0.1"}  # Redis, the catcher, the app, the dashboard: loopback only
        plan = {
            "port": started["redis_port"],
            "app_port": started["app_port"],
            "dashboard_port": started["dashboard_port"],
            "files": [str(f) for f in files],
            "folders": [str(f) for f in folders],
            "pids": pids,
        }

        results = json.loads(b.run(ATTACK, stdin=json.dumps(plan)))

        print(f"\nLearner B ({b.name}) against learner A ({a.name}):")
        for item in results:
            result = item["result"]
            if result == "READ":
                result = f"read, {'HOLDS' if secret in item['got'] else 'without'} the password: {item['got'][:60]}"
            print(f"  {item['attack']:<60} -> {result[:110]}")
        refused = {item["attack"]: item["result"] for item in results}
        for item in results:
            if item["kind"] == "redis" and item["attack"].startswith("AUTH"):
                assert item["result"].startswith("-WRONGPASS"), item
            elif item["kind"] == "redis":
                assert item["result"].startswith("-NOAUTH"), item
            elif item["kind"] == "http":  # the app and the dashboard ask for A's token: no page, no Requeue
                assert item["result"].split()[1] == "403", item
            elif item["kind"] == "cmdline":  # readable by anyone: which is why no secret may be in it
                assert item["result"] == "READ" and secret not in item["got"], item
            else:
                assert item["result"] == "PermissionError: Permission denied", item
        assert sum(1 for attack in refused if attack.startswith("read /proc")) == 2 * len(pids)

        after = json.loads(a.run(AFTER))
        assert after == {"caught": True, "precious": "mine", "keys": after["keys"], "before": 1, "thoughts": 0}
        assert after["keys"] >= started["keys"]  # nothing of A's went
