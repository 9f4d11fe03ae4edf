"""The harvester's decisions (harvester/kiln_harvest.py), without Kiln: a fake clock, a fake
Kiln behind a fake requests session, and once a real local HTTP server for the bytes on the
wire. No database."""

from __future__ import annotations

import ast
import hashlib
import http.server
import json
import os
import re
import sys
import threading
from pathlib import Path

import pytest
import requests

from harvester import kiln_harvest as kh

SCRIPT = Path(kh.__file__)
PC = "neware-unit3"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Reply:
    def __init__(self, status: int, body: dict | None = None) -> None:
        self.status_code, self._body = status, body or {}
        self.text = json.dumps(self._body)

    def json(self) -> dict:
        return self._body


def parse_multipart(body: bytes, content_type: str) -> dict[str, bytes]:
    """name -> value of a multipart/form-data body (enough for what the harvester sends)."""
    boundary = content_type.split("boundary=", 1)[1].encode()
    fields = {}
    for part in body.split(b"--" + boundary)[1:-1]:
        head, _, value = part[2:].partition(b"\r\n\r\n")  # a part starts after a CRLF
        name = re.search(rb'name="([^"]*)"', head).group(1).decode()
        fields[name] = value[:-2]  # the CRLF before the next boundary
    return fields


class FakeKiln:
    """A requests session answering as Kiln's harvest API does, recording every call."""

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.versions: dict[str, list[str]] = {}  # path -> sha256 of each version
        self.calls: list[tuple[str, str]] = []
        self.down = False
        self.status: int | None = None  # answer every call with this status

    def _refuse(self) -> Reply | None:
        if self.down:
            raise requests.ConnectionError("connection refused")
        if self.status is not None:
            return Reply(self.status, {"errors": {"non_field_errors": ["no"]}})
        return None

    def get(self, url, headers, timeout, params):
        self.calls.append(("GET", params["path"]))
        sha256 = url.rsplit("/", 1)[1]
        refused = self._refuse()
        if refused:
            return refused
        if sha256 in self.versions.get(params["path"], []):
            return Reply(200, {"sha256": sha256, "version": 1, "measurement": "MEAS-2026-0001"})
        return Reply(404, {"errors": {"non_field_errors": ["not found"]}})

    def post(self, url, headers, timeout, data):
        body = b"".join(data)
        assert len(body) == len(data)  # Content-Length as announced
        fields = parse_multipart(body, headers["Content-Type"])
        path = fields["path"].decode()
        self.calls.append(("POST", path))
        refused = self._refuse()
        if refused:
            return refused
        assert hashlib.sha256(fields["file"]).hexdigest() == fields["sha256"].decode()
        known = self.versions.setdefault(path, [])
        status = "duplicate" if fields["sha256"].decode() in known else "stored"
        if status == "stored":
            known.append(fields["sha256"].decode())
        answer = {"status": status, "version": len(known), "measurement": "MEAS-2026-0001"}
        return Reply(201 if status == "stored" else 200, answer)


@pytest.fixture
def watched(tmp_path) -> Path:
    folder = tmp_path / "NewareData"
    (folder / "unit3-ch5").mkdir(parents=True)
    return folder


@pytest.fixture
def kiln() -> FakeKiln:
    return FakeKiln()


def make(watched: Path, kiln: FakeKiln, clock: Clock, **options) -> kh.Harvester:
    state = kh.State.load(watched.parent / "state" / "harvest.json")
    client = kh.Kiln("http://kiln.test/", "kiln_key", PC, session=kiln)
    return kh.Harvester(client, state, [watched], clock=clock, **options)


def write(path: Path, content: bytes, mtime: float) -> None:
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))


# --- stable size, then sent once ----------------------------------------------------------------


def test_a_file_is_sent_only_once_its_size_and_time_stood_still_for_the_stable_time(watched, kiln):
    clock = Clock()
    harvester = make(watched, kiln, clock, stable_s=60)
    cell_file = watched / "unit3-ch5" / "CELL-2026-0042_0.1C.ndax"
    write(cell_file, b"first cycles", clock.now - 5)

    first = harvester.run_pass()
    clock.now += 59
    second = harvester.run_pass()
    write(cell_file, b"first cycles, and more", clock.now - 1)  # still being written
    clock.now += 30
    third = harvester.run_pass()
    clock.now += 60
    fourth = harvester.run_pass()

    assert (first.waiting, second.waiting, third.waiting) == (1, 1, 1)
    assert fourth.sent == 1
    assert kiln.calls == [("GET", "NewareData/unit3-ch5/CELL-2026-0042_0.1C.ndax")] + [
        ("POST", "NewareData/unit3-ch5/CELL-2026-0042_0.1C.ndax")
    ]


def test_a_file_sent_is_not_hashed_or_sent_again_until_it_grows(watched, kiln):
    clock = Clock()
    harvester = make(watched, kiln, clock, stable_s=0)
    running = watched / "CELL-2026-0042.ndax"
    write(running, b"cycle 1", clock.now - 100)

    harvester.run_pass()
    again = harvester.run_pass()
    write(running, b"cycle 1, cycle 2", clock.now - 50)
    grown = harvester.run_pass()

    assert again.known == 1 and grown.sent == 1
    assert kiln.versions["NewareData/CELL-2026-0042.ndax"] == [
        hashlib.sha256(b"cycle 1").hexdigest(),
        hashlib.sha256(b"cycle 1, cycle 2").hexdigest(),
    ]
    assert [method for method, _ in kiln.calls] == ["GET", "POST", "GET", "POST"]


def test_only_cycler_files_are_sent_and_the_folder_gives_the_channel(watched, kiln, tmp_path):
    clock = Clock()
    harvester = make(watched, kiln, clock, stable_s=0, channel_from_folder=True)
    write(watched / "unit3-ch5" / "run.NDAX", b"data", clock.now - 10)
    write(watched / "unit3-ch5" / "notes.docx", b"words", clock.now - 10)
    write(watched / "unit3-ch5" / "empty.csv", b"", clock.now - 10)

    done = harvester.run_pass()

    assert (done.sent, done.waiting) == (1, 1)  # the empty file waits for content
    assert list(kiln.versions) == ["NewareData/unit3-ch5/run.NDAX"]
    observed = next(kh.scan([watched], kh.EXTENSIONS, True))
    assert observed.channel == "unit3-ch5"


def test_content_kiln_already_has_for_the_file_is_not_uploaded(watched, kiln):
    clock = Clock()
    write(watched / "CELL-2026-0042.ndax", b"known bytes", clock.now - 100)
    kiln.versions["NewareData/CELL-2026-0042.ndax"] = [hashlib.sha256(b"known bytes").hexdigest()]

    done = make(watched, kiln, clock, stable_s=0).run_pass()

    assert done.known == 1
    assert [method for method, _ in kiln.calls] == ["GET"]


def test_files_are_sent_side_by_side_each_once_and_the_state_records_them_all(watched, kiln):
    """A first pass over an archive (issue 11, speed): `parallel` sends at once, not a queue."""
    clock = Clock()
    for i in range(12):
        write(watched / "unit3-ch5" / f"CELL-2026-{i:04d}.csv", f"run {i}".encode(), clock.now - 9)
    together = threading.Barrier(3, timeout=10)  # waits until three posts are in flight
    post = kiln.post

    def side_by_side(*args, **kwargs):
        together.wait()
        return post(*args, **kwargs)

    kiln.post = side_by_side
    harvester = make(watched, kiln, clock, stable_s=0, parallel=3)

    done = harvester.run_pass()

    assert (done.sent, done.failed) == (12, 0)  # a sequential harvester breaks the barrier
    assert sorted(path for method, path in kiln.calls if method == "POST") == sorted(
        f"NewareData/unit3-ch5/CELL-2026-{i:04d}.csv" for i in range(12)
    )
    saved = json.loads((watched.parent / "state" / "harvest.json").read_text())
    assert {entry["status"] for entry in saved["sent"].values()} == {"stored"}
    assert len(saved["sent"]) == 12


def test_one_at_a_time_keeps_the_order_of_the_listing(watched, kiln):
    clock = Clock()
    for name in ("b.ndax", "a.ndax", "c.ndax"):
        write(watched / name, name.encode(), clock.now - 9)

    make(watched, kiln, clock, stable_s=0, parallel=1).run_pass()

    assert [path.rsplit("/", 1)[1] for _, path in kiln.calls] == [
        "a.ndax", "a.ndax", "b.ndax", "b.ndax", "c.ndax", "c.ndax"
    ]  # fmt: skip


# --- the state file -----------------------------------------------------------------------------


def test_the_state_file_is_replaced_whole_and_a_restarted_harvester_resumes_from_it(watched, kiln):
    clock = Clock()
    write(watched / "CELL-2026-0042.ndax", b"cycle 1", clock.now - 100)
    make(watched, kiln, clock, stable_s=0).run_pass()
    state_file = watched.parent / "state" / "harvest.json"

    restarted = make(watched, kiln, clock, stable_s=0)
    done = restarted.run_pass()

    saved = json.loads(state_file.read_text())
    entry = saved["sent"]["NewareData/CELL-2026-0042.ndax"]
    assert (entry["sha256"], entry["status"], entry["version"]) == (
        hashlib.sha256(b"cycle 1").hexdigest(), "stored", 1
    )  # fmt: skip
    assert done.known == 1 and len(kiln.calls) == 2  # nothing asked after the restart
    assert sorted(p.name for p in state_file.parent.iterdir()) == ["harvest.json"]


def test_an_unreadable_state_file_starts_afresh_and_kiln_recognises_what_it_has(watched, kiln):
    clock = Clock()
    write(watched / "CELL-2026-0042.ndax", b"cycle 1", clock.now - 100)
    make(watched, kiln, clock, stable_s=0).run_pass()
    (watched.parent / "state" / "harvest.json").write_text('{"format": 1, "sent": {')

    done = make(watched, kiln, clock, stable_s=0).run_pass()

    assert done.known == 1
    assert [method for method, _ in kiln.calls] == ["GET", "POST", "GET"]


def test_the_files_on_the_pc_are_never_changed(watched, kiln):
    clock = Clock()
    running = watched / "unit3-ch5" / "CELL-2026-0042.ndax"
    write(running, b"cycle 1", clock.now - 100)
    before = (running.read_bytes(), running.stat().st_mtime, sorted(watched.rglob("*")))

    make(watched, kiln, clock, stable_s=0).run_pass()

    assert (running.read_bytes(), running.stat().st_mtime, sorted(watched.rglob("*"))) == before


# --- failures -----------------------------------------------------------------------------------


def test_the_backoff_doubles_up_to_its_cap():
    assert [kh.backoff_s(n, base_s=2, cap_s=60) for n in range(0, 8)] == [
        0, 2, 4, 8, 16, 32, 60, 60
    ]  # fmt: skip


def test_a_server_outage_is_retried_with_backoff_while_the_other_files_go_on(watched, kiln):
    clock = Clock()
    harvester = make(watched, kiln, clock, stable_s=0)
    write(watched / "a.ndax", b"a", clock.now - 100)
    kiln.down = True

    first = harvester.run_pass()
    write(watched / "b.ndax", b"b", clock.now - 100)
    kiln.down = False
    clock.now += 1  # within a's backoff (2 s): a waits, b goes
    second = harvester.run_pass()
    clock.now += 2
    third = harvester.run_pass()

    assert (first.failed, second.failed, second.sent, third.sent) == (1, 1, 1, 1)
    assert sorted(kiln.versions) == ["NewareData/a.ndax", "NewareData/b.ndax"]
    assert harvester.failures == {}


def test_a_file_the_cycler_holds_locked_is_tried_again_later(watched, kiln, monkeypatch):
    clock = Clock()
    harvester = make(watched, kiln, clock, stable_s=0)
    write(watched / "a.ndax", b"a", clock.now - 100)
    real = kh.sha256_of

    def locked(local, size):
        raise PermissionError(13, "The process cannot access the file", str(local))

    monkeypatch.setattr(kh, "sha256_of", locked)
    busy = harvester.run_pass()
    monkeypatch.setattr(kh, "sha256_of", real)
    clock.now += 2
    free = harvester.run_pass()

    assert (busy.failed, free.sent) == (1, 1)


def test_a_server_error_is_retried_and_a_refusal_waits_for_the_file_to_change(watched, kiln):
    clock = Clock()
    harvester = make(watched, kiln, clock, stable_s=0)
    write(watched / "a.ndax", b"a", clock.now - 100)

    kiln.status = 503
    unavailable = harvester.run_pass()
    kiln.status, clock.now = 400, clock.now + 10
    refused = harvester.run_pass()
    kiln.status, clock.now = None, clock.now + 10
    unchanged = harvester.run_pass()
    write(watched / "a.ndax", b"a, fixed", clock.now - 5)
    changed = harvester.run_pass()

    assert (unavailable.failed, refused.refused, unchanged.known, changed.sent) == (1, 1, 1, 1)
    assert harvester.state.sent["NewareData/a.ndax"]["status"] == "stored"


def test_once_retries_a_failed_file_then_exits_1_keeping_its_state(watched, kiln):
    clock = Clock()
    harvester = make(watched, kiln, clock, stable_s=0)
    write(watched / "a.ndax", b"a", clock.now - 100)
    kiln.down = True
    slept = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    status = kh.run(harvester, once=True, interval_s=30, retries=3, sleep=sleep)

    assert status == 1
    assert slept == [2, 4]
    assert kiln.calls == [("GET", "NewareData/a.ndax")] * 3
    assert "NewareData/a.ndax" not in harvester.state.sent


def test_a_refused_token_stops_the_harvester_with_status_2(watched, tmp_path, kiln):
    write(watched / "a.ndax", b"a", 1_700_000_000)
    token = tmp_path / "token.txt"
    token.write_text("kiln_revoked\n")
    kiln.status = 401
    argv = ["--server", "http://kiln.test", "--token-file", str(token), "--source", PC,
            "--watch", str(watched), "--stable-seconds", "0", "--state",
            str(tmp_path / "state.json"), "--once"]  # fmt: skip

    assert kh.main(argv, session=kiln) == 2
    assert kiln.headers["Authorization"] == "Bearer kiln_revoked"
    assert kh.main([*argv[:3], str(tmp_path / "missing.txt"), *argv[4:]], session=kiln) == 2


# --- the bytes on the wire, and the script itself -----------------------------------------------


def test_the_upload_streams_the_file_as_multipart_form_data_with_its_length(tmp_path):
    """A real local HTTP server receives what requests sends."""
    received = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.update(
                auth=self.headers["Authorization"],
                fields=parse_multipart(self.rfile.read(length), self.headers["Content-Type"]),
            )
            reply = json.dumps({"status": "stored", "version": 1, "measurement": None}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        local = tmp_path / 'CELL-2026-0042 "µ".ndax'
        content = bytes(range(256)) * (3 * kh.CHUNK_BYTES // 256) + b"17 bytes at the end"
        local.write_bytes(content + b"written after the listing")
        file = kh.Observed("NewareData/x.ndax", local, len(content), 1.5e9, "unit3-ch5")
        client = kh.Kiln(f"http://127.0.0.1:{server.server_port}", "kiln_key", PC)
        answer = client.send(file, hashlib.sha256(content).hexdigest())
    finally:
        server.shutdown()
        server.server_close()

    fields = received["fields"]
    assert answer["status"] == "stored" and received["auth"] == "Bearer kiln_key"
    assert fields["file"] == content  # the bytes listed and hashed, not those added since
    assert {k: v.decode() for k, v in fields.items() if k != "file"} == {
        "source": PC, "path": "NewareData/x.ndax", "channel": "unit3-ch5",
        "sha256": hashlib.sha256(content).hexdigest(), "size": str(len(content)),
        "mtime": "1500000000.0",
    }  # fmt: skip


def test_the_script_needs_only_the_standard_library_and_requests_on_python_3_9():
    tree = ast.parse(SCRIPT.read_text(), feature_version=(3, 9))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"requests"}
    future = tree.body[1]  # after the docstring: annotations stay strings on 3.9
    assert isinstance(future, ast.ImportFrom) and future.module == "__future__"


def test_manage_py_kiln_harvest_runs_the_same_script_with_the_same_options(tmp_path):
    from characterization.management.commands.kiln_harvest import Command, harvester_script

    token = str(tmp_path / "missing.txt")
    argv = ["manage.py", "kiln_harvest", "--server", "http://kiln.test", "--token-file", token,
            "--source", PC, "--watch", str(tmp_path), "--once"]  # fmt: skip
    with pytest.raises(SystemExit) as exited:
        Command().run_from_argv(argv)

    assert exited.value.code == 2  # the script's own answer to a missing token file
    assert Path(harvester_script().__file__) == SCRIPT
