#!/usr/bin/env python3
"""kiln-harvest: send a cycler PC's data files to Kiln as they are written.

One file, Python 3.9+ and `requests` only (no Django): copy it to the cycler PC. It watches
folders and uploads every new or grown cycler file through Kiln's harvest API with an
upload-only token (made on your Kiln profile page):

    python kiln_harvest.py --server https://kiln.lab --token-file C:\\kiln\\token.txt ^
        --source neware-unit3 --watch D:\\NewareData [--watch E:\\BioLogic] ^
        [--channel-from-folder] [--stable-seconds 60] [--interval 30] [--state PATH] [--once]
        [--parallel 4]

On Kiln it is also `python manage.py kiln_harvest ...` (the same options). See
docs/harvester.md for installing it on a Windows PC as a scheduled task.

What it does, every --interval seconds (or once with --once):
- lists the files under each watched folder whose extension is a cycler's (--extensions);
- a file is sent when its size and modification time have not changed for --stable-seconds
  (a cycler still writing it keeps changing them) and differ from what was last sent;
- it hashes the file (SHA-256), asks Kiln whether it has that content already for this file
  (GET /api/v1/harvest/files/<sha256>), and uploads it only if not; a file that grows later
  (a running test) is sent again and becomes the next version of the same measurement;
- up to --parallel files are hashed and sent at once (Kiln's web workers serve them side by
  side: a first pass over an archive of small files is not one long queue);
- what was sent is kept in a local state file (JSON, replaced atomically every few seconds
  and at the end of each pass), so a restart resumes where it stopped; Kiln also recognises
  content it has, so a lost state file (or its last seconds) costs only hashing;
- a network or server failure is retried with exponential backoff (capped) while the other
  files go on;
- files are opened read-only: it never renames, changes or deletes anything on the PC.

Kiln places each file on a cell: by the cell's code in the file or folder name
(CELL-2026-0042_0.1C.ndax), else by the channel -> cell assignment a lab manager keeps in Kiln
for this PC (--source) and channel (--channel-from-folder: the file's folder name, such as
"unit3-ch5"). A file it cannot place is listed in Kiln for someone to assign.

Exit status: 0 all done (files still being written wait for the next run), 1 some files could
not be sent (retried next time), 2 a usage, token or server configuration problem.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import requests

__version__ = "1"
log = logging.getLogger("kiln_harvest")

EXTENSIONS = (".nda", ".ndax", ".mpr", ".mpt", ".res", ".csv", ".txt", ".xlsx")
CHUNK_BYTES = 1024 * 1024
STATE_FORMAT = 1
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0
TIMEOUT_S = (10, 300)  # connect, read (a large file takes a while to store and hash)
RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
PARALLEL = 4  # files sent at once (Kiln's default deployment runs 3 web workers)
SAVE_EVERY_S = 5.0  # the state file is rewritten at most this often during a pass


class Fatal(Exception):
    """Nothing can be sent until a person acts (a refused token, a wrong server URL)."""


class Transient(Exception):
    """Try this file again later: the network, the server or the file itself is busy."""


class Refused(Exception):
    """Kiln refuses this content (empty, too large...): wait until the file changes."""


# --- what to send: pure decisions --------------------------------------------------------------


@dataclass(frozen=True)
class Observed:
    """A file as listed now: its name for Kiln (watched folder's name/relative path)."""

    path: str
    local: Path
    size: int
    mtime: float
    channel: str = ""


def backoff_s(failures: int, base_s: float = BACKOFF_BASE_S, cap_s: float = BACKOFF_CAP_S) -> float:
    """Seconds to wait after `failures` failures in a row: base·2^(n-1), at most cap."""
    if failures < 1:
        return 0.0
    return min(cap_s, base_s * 2 ** min(failures - 1, 30))


def is_stable(seen: dict | None, file: Observed, now: float, stable_s: float) -> bool:
    """Unchanged (size and mtime) since it was first seen so, at least `stable_s` ago."""
    if seen is None or seen.get("size") != file.size or seen.get("mtime") != file.mtime:
        return False
    return now - float(seen.get("since", now)) >= stable_s


def is_sent(sent: dict | None, file: Observed) -> bool:
    """Kiln has this file as it is now (or refused it so): nothing to do until it changes."""
    return sent is not None and sent.get("size") == file.size and sent.get("mtime") == file.mtime


# --- the state file ----------------------------------------------------------------------------


class State:
    """What was sent (per path: size, mtime, sha256, status, version) and when each file was
    first seen with its current size and mtime; kept in a JSON file replaced atomically."""

    def __init__(self, path: Path, data: dict | None = None) -> None:
        self.path = path
        data = data or {}
        self.sent: dict[str, dict] = dict(data.get("sent", {}))
        self.seen: dict[str, dict] = dict(data.get("seen", {}))

    @classmethod
    def load(cls, path: Path) -> State:
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError) as exc:  # Kiln recognises what it has: start afresh
            log.warning("state file %s unreadable (%s): starting with an empty state", path, exc)
            return cls(path)
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            log.warning("state file %s has an unknown format: starting afresh", path)
            return cls(path)
        return cls(path, data)

    def observe(self, file: Observed, now: float) -> dict:
        """Note the file's size and mtime; `since` restarts whenever they change."""
        seen = self.seen.get(file.path)
        if seen is None or seen.get("size") != file.size or seen.get("mtime") != file.mtime:
            seen = {"size": file.size, "mtime": file.mtime, "since": now}
            self.seen[file.path] = seen
        return seen

    def record(self, file: Observed, **fields) -> None:
        self.sent[file.path] = {"size": file.size, "mtime": file.mtime, **fields}

    def save(self) -> None:
        """Write to a temporary file beside the state file, then replace it in one step."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": STATE_FORMAT, "sent": self.sent, "seen": self.seen}
        # one line, so json's C encoder writes it (indent= falls back to the Python one)
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        fd, tmp = tempfile.mkstemp(dir=str(self.path.parent), prefix=".kiln-harvest-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


# --- the files ---------------------------------------------------------------------------------


def scan(
    folders: list[Path], extensions: tuple[str, ...], channel_from_folder: bool
) -> Iterator[Observed]:
    """The cycler files under the folders, named `<folder name>/<relative path>` for Kiln."""
    for folder in folders:
        for root, dirs, names in os.walk(folder):
            dirs.sort()
            for name in sorted(names):
                if not name.lower().endswith(extensions):
                    continue
                local = Path(root) / name
                try:
                    stat = local.stat()
                except OSError:  # removed or locked since listed
                    continue
                relative = local.relative_to(folder)
                parent = relative.parent.name if channel_from_folder else ""
                yield Observed(
                    path="/".join((folder.name, *relative.parts)),
                    local=local,
                    size=stat.st_size,
                    mtime=stat.st_mtime,
                    channel=parent,
                )


def sha256_of(local: Path, size: int) -> str:
    """The SHA-256 of the file's first `size` bytes (what is sent); Transient when it has
    fewer now (rewritten since listed)."""
    digest, left = hashlib.sha256(), size
    with open(local, "rb") as fh:
        while left > 0:
            chunk = fh.read(min(CHUNK_BYTES, left))
            if not chunk:
                raise Transient(f"{local} shrank while it was read")
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


class MultipartBody:
    """A multipart/form-data body read from disk as it is sent (a cycler file may be larger
    than the PC's free memory): the fields, then the file's first `size` bytes."""

    def __init__(self, fields: dict[str, str], name: str, local: Path, size: int) -> None:
        boundary = f"kiln-harvest-{uuid.uuid4().hex}"
        self.content_type = f"multipart/form-data; boundary={boundary}"
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
            .encode()
            for key, value in fields.items()
        )  # fmt: skip
        safe = name.replace('"', "_").replace("\r", "_").replace("\n", "_")
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self._head, self._tail = head, f"\r\n--{boundary}--\r\n".encode()
        self._local, self._size = local, size

    def __len__(self) -> int:
        return len(self._head) + self._size + len(self._tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self._head
        left = self._size
        with open(self._local, "rb") as fh:
            while left > 0:
                chunk = fh.read(min(CHUNK_BYTES, left))
                if not chunk:
                    raise Transient(f"{self._local} shrank while it was sent")
                left -= len(chunk)
                yield chunk
        yield self._tail


# --- Kiln --------------------------------------------------------------------------------------


class Kiln:
    """The two calls of Kiln's harvest API; errors sorted into Fatal, Transient and Refused.
    Safe to call from several threads: each has its own requests session unless one is given."""

    def __init__(self, server: str, token: str, source: str, session=None) -> None:
        self.base = server.rstrip("/") + "/api/v1/harvest/files"
        self.source = source
        self.headers = {"Authorization": f"Bearer {token}",
                        "User-Agent": f"kiln-harvest/{__version__}"}  # fmt: skip
        self._given = session
        self._local = threading.local()
        if session is not None:
            session.headers.update(self.headers)

    @property
    def session(self):
        """The given session, else this thread's own."""
        if self._given is not None:
            return self._given
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update(self.headers)
        return session

    def known(self, sha256: str, path: str) -> dict | None:
        """Kiln's answer when it has this content as a version of this file, else None."""
        params = {"source": self.source, "path": path}
        response = self._call("get", f"{self.base}/{sha256}", params=params)
        return None if response.status_code == 404 else response.json()

    def send(self, file: Observed, sha256: str) -> dict:
        fields = {"source": self.source, "path": file.path, "channel": file.channel,
                  "sha256": sha256, "size": str(file.size), "mtime": repr(file.mtime)}  # fmt: skip
        body = MultipartBody(fields, file.local.name, file.local, file.size)
        response = self._call("post", self.base, data=body, content_type=body.content_type)
        return response.json()

    def _call(self, method: str, url: str, content_type: str = "", **kwargs):
        headers = {"Content-Type": content_type} if content_type else {}
        try:
            response = getattr(self.session, method)(
                url, headers=headers, timeout=TIMEOUT_S, **kwargs
            )
        except requests.RequestException as exc:
            raise Transient(f"{method.upper()} {url}: {exc.__class__.__name__}: {exc}") from exc
        status = response.status_code
        if status in RETRYABLE_STATUS:
            raise Transient(f"{method.upper()} {url}: HTTP {status}")
        if status in (401, 403) or (status == 404 and method == "post"):
            raise Fatal(f"{method.upper()} {url}: HTTP {status}: {_errors(response)}")
        if status >= 400 and not (status == 404 and method == "get"):
            raise Refused(f"HTTP {status}: {_errors(response)}")
        return response


def _errors(response) -> str:
    try:
        errors = response.json().get("errors", {})
        return "; ".join(m for messages in errors.values() for m in messages)
    except (ValueError, AttributeError, TypeError):
        return response.text[:200]


# --- the harvester -----------------------------------------------------------------------------


@dataclass
class Pass:
    """What one pass over the folders did."""

    sent: int = 0
    known: int = 0
    waiting: int = 0
    failed: int = 0
    refused: int = 0


class Harvester:
    def __init__(
        self,
        kiln: Kiln,
        state: State,
        folders: list[Path],
        *,
        stable_s: float = 60.0,
        extensions: tuple[str, ...] = EXTENSIONS,
        channel_from_folder: bool = False,
        max_backoff_s: float = BACKOFF_CAP_S,
        parallel: int = PARALLEL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.kiln, self.state, self.folders = kiln, state, folders
        self.stable_s, self.extensions = stable_s, extensions
        self.channel_from_folder = channel_from_folder
        self.max_backoff_s = max_backoff_s
        self.parallel = max(1, parallel)
        self.clock = clock
        self.failures: dict[str, tuple[int, float]] = {}  # path -> (failures, retry at)
        self._saved_at = time.monotonic()

    def run_pass(self) -> Pass:
        """Look at every file once, sending up to `parallel` at a time; the state file is
        saved every SAVE_EVERY_S while files are sent, and at the end."""
        done = Pass()
        found = set()
        with ThreadPoolExecutor(self.parallel, thread_name_prefix="kiln-send") as pool:
            sending: dict[Future, tuple[Observed, float]] = {}
            try:
                for file in scan(self.folders, self.extensions, self.channel_from_folder):
                    found.add(file.path)
                    now = self.clock()
                    outcome = self._triage(file, now)
                    if outcome is None:
                        sent = self.state.sent.get(file.path)
                        sending[pool.submit(self._transfer, file, sent)] = (file, now)
                        if len(sending) >= 2 * self.parallel:  # the listing waits for the sends
                            self._settle_some(sending, done)
                    else:
                        _count(done, outcome)
                while sending:
                    self._settle_some(sending, done)
            except BaseException:  # Fatal, Ctrl-C: the files in flight finish, none start
                for future in sending:
                    future.cancel()
                with contextlib.suppress(OSError):
                    self.state.save()  # what was settled so far
                raise
        for gone in set(self.state.seen) - found:  # forgotten: the PC's files are its own
            del self.state.seen[gone]
        self.state.save()
        self._saved_at = time.monotonic()
        return done

    def consider(self, file: Observed) -> str:
        """'sent', 'known', 'waiting', 'failed' or 'refused' (Fatal propagates): one file,
        at once, in this thread."""
        now = self.clock()
        outcome = self._triage(file, now)
        if outcome is not None:
            return outcome
        future: Future = Future()
        try:
            future.set_result(self._transfer(file, self.state.sent.get(file.path)))
        except (Transient, Refused, OSError) as exc:
            future.set_exception(exc)
        return self._settle(file, now, future)

    def _triage(self, file: Observed, now: float) -> str | None:
        """What to count for the file without sending it, or None: send it now."""
        seen = self.state.observe(file, now)
        if is_sent(self.state.sent.get(file.path), file):
            return "known"
        if file.size == 0 or not is_stable(seen, file, now, self.stable_s):
            return "waiting"
        _, retry_at = self.failures.get(file.path, (0, 0.0))
        if now < retry_at:
            return "failed"
        return None

    def _transfer(self, file: Observed, sent: dict | None) -> tuple[str, dict | None]:
        """Hash the file, ask Kiln, send it if Kiln lacks it: (sha256, Kiln's answer), the
        answer None when the file was only touched. Runs in a sending thread: reads the
        file and the network, never the state."""
        sha256 = sha256_of(file.local, file.size)
        if sent is not None and sent.get("sha256") == sha256:  # touched, not changed
            return sha256, None
        answer = self.kiln.known(sha256, file.path)
        if answer is None:
            answer = self.kiln.send(file, sha256)
            where = answer.get("measurement") or "none (unplaced)"
            log.info("%s: %s, version %s, measurement %s", file.path, answer.get("status"),
                     answer.get("version"), where)  # fmt: skip
        return sha256, answer

    def _settle_some(self, sending: dict, done: Pass) -> None:
        """Wait for a file in flight to finish and record it (and any others done by then)."""
        finished, _ = wait(list(sending), return_when=FIRST_COMPLETED)
        for future in finished:
            file, now = sending.pop(future)
            _count(done, self._settle(file, now, future))
        if time.monotonic() - self._saved_at >= SAVE_EVERY_S:
            self.state.save()
            self._saved_at = time.monotonic()

    def _settle(self, file: Observed, now: float, future: Future) -> str:
        """Record what sending the file came to (in the harvester's thread)."""
        try:
            sha256, answer = future.result()
        except (Transient, OSError) as exc:  # OSError: locked by the cycler, or just removed
            failures = self.failures.get(file.path, (0, 0.0))[0] + 1
            delay = backoff_s(failures, cap_s=self.max_backoff_s)
            self.failures[file.path] = (failures, now + delay)
            log.warning("%s: %s (try %d; again in %.0f s)", file.path, exc, failures, delay)
            return "failed"
        except Refused as exc:
            log.error("%s: Kiln refused it: %s (sent again once it changes)", file.path, exc)
            self.state.record(file, status="refused", message=str(exc)[:500])
            self.failures.pop(file.path, None)
            return "refused"
        self.failures.pop(file.path, None)
        if answer is None:  # touched, not changed
            sent = self.state.sent[file.path]
            self.state.record(file, **{**sent, "size": file.size, "mtime": file.mtime})
            return "known"
        self.state.record(file, sha256=sha256, status=answer.get("status", "known"),
                          version=answer.get("version"), measurement=answer.get("measurement"),
                          at=self.clock())  # fmt: skip
        return "known" if answer.get("status") in (None, "duplicate") else "sent"

    def retry_due(self) -> float | None:
        """When the next failed file may be tried again (None: none failed)."""
        return min((at for _, at in self.failures.values()), default=None)


def _count(done: Pass, outcome: str) -> None:
    setattr(done, outcome, getattr(done, outcome) + 1)


# --- the command line --------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kiln_harvest", description="Send a cycler PC's data files to Kiln."
    )
    p.add_argument("--server", required=True, help="Kiln's address, e.g. https://kiln.lab")
    p.add_argument("--token-file", required=True, type=Path, help="holds an upload-only token")
    p.add_argument("--source", required=True, help="this PC's name in Kiln, e.g. neware-unit3")
    p.add_argument("--watch", required=True, action="append", type=Path, metavar="DIR",
                   help="a folder to watch (repeat for more; their names must differ)")  # fmt: skip
    p.add_argument("--channel-from-folder", action="store_true",
                   help="send the file's folder name as its channel (unit3-ch5)")  # fmt: skip
    p.add_argument("--stable-seconds", type=float, default=60.0,
                   help="send a file once unchanged this long (default 60)")  # fmt: skip
    p.add_argument("--interval", type=float, default=30.0, help="seconds between passes")
    p.add_argument("--state", type=Path, default=None,
                   help="state file (default: ~/.kiln-harvest/<source>.json)")  # fmt: skip
    p.add_argument("--extensions", default=",".join(EXTENSIONS),
                   help="file extensions to send, comma-separated")  # fmt: skip
    p.add_argument("--once", action="store_true",
                   help="one pass (failed files retried --retries times), then exit")  # fmt: skip
    p.add_argument("--retries", type=int, default=3, help="with --once: tries per file")
    p.add_argument("--parallel", type=int, default=PARALLEL,
                   help=f"files sent at once (default {PARALLEL}; 1: one by one)")  # fmt: skip
    p.add_argument(
        "--max-backoff",
        type=float,
        default=BACKOFF_CAP_S,
        help=f"longest wait before a file is tried again (default {BACKOFF_CAP_S:g} s)",
    )
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def _token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise Fatal(f"--token-file {path}: {exc}") from exc
    if not token or any(ch.isspace() for ch in token):
        raise Fatal(f"--token-file {path}: put the token alone in it, on one line")
    return token


def _folders(paths: list[Path]) -> list[Path]:
    folders = [p.expanduser().resolve() for p in paths]
    missing = [str(f) for f in folders if not f.is_dir()]
    if missing:
        raise Fatal(f"--watch: not a folder: {', '.join(missing)}")
    names = [f.name for f in folders]
    if len(set(names)) != len(names):
        raise Fatal("--watch: the folders' names must differ (they name the files in Kiln)")
    return folders


def build(args: argparse.Namespace, session=None) -> Harvester:
    state_path = args.state or Path.home() / ".kiln-harvest" / f"{args.source}.json"
    extensions = tuple(
        e.strip().lower() if e.strip().startswith(".") else "." + e.strip().lower()
        for e in args.extensions.split(",")
        if e.strip()
    )
    kiln = Kiln(args.server, _token(args.token_file), args.source, session=session)
    return Harvester(
        kiln, State.load(state_path), _folders(args.watch), stable_s=args.stable_seconds,
        extensions=extensions, channel_from_folder=args.channel_from_folder,
        max_backoff_s=args.max_backoff, parallel=args.parallel,
    )  # fmt: skip


def run(harvester: Harvester, *, once: bool, interval_s: float, retries: int,
        sleep: Callable[[float], None] = time.sleep) -> int:  # fmt: skip
    """Passes until stopped (or, with `once`, one pass and its retries); the exit status."""
    while True:
        done = harvester.run_pass()
        log.info("pass: %s", done)
        due = harvester.retry_due()
        if once:
            tries = max((n for n, _ in harvester.failures.values()), default=0)
            if due is None or tries >= retries:
                return 1 if harvester.failures else 0
            sleep(max(0.0, due - harvester.clock()))
            continue
        wait = interval_s if due is None else min(interval_s, max(0.0, due - harvester.clock()))
        sleep(max(wait, 0.5))


def main(argv: list[str] | None = None, session=None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    try:
        harvester = build(args, session=session)
        return run(harvester, once=args.once, interval_s=args.interval, retries=args.retries)
    except Fatal as exc:
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
