"""Exports built on the worker, for tests: start one as the page does, run the worker side as
the task does, and download the file."""

from __future__ import annotations

import io
import zipfile

from lims import transfers


def eln_archive(client, code: str) -> zipfile.ZipFile:
    """The .eln archive of sample `code` (the client is signed in as a chemist or manager)."""
    started = client.post(f"/transfers/eln/{code}/")
    assert started.status_code == 302, started.status_code
    pk = int(started["Location"].rstrip("/").rsplit("/", 1)[1])
    assert transfers.transfer_run(transfer_id=pk, worker="test") == "succeeded"
    response = client.get(f"/transfers/{pk}/download")
    assert response["Content-Type"] == "application/vnd.eln+zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
