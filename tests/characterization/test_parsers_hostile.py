"""Damaged and hostile files: zip bombs are refused before anything is unpacked and cost no
memory; bit-flipped and truncated copies of every fixture parse or raise ParseError, never
another exception and never a hang; detection reads a bounded amount of any file."""

from __future__ import annotations

import functools
import json
import os
import random
import signal
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from characterization.parsers import ParseError, _zip, detect_format, read_cycler_file
from characterization.parsers.arbin_xlsx import read_arbin_xlsx
from characterization.parsers.mapped import ColumnMapping, read_mapped_file
from characterization.parsers.neware_nda import read_neware_binary
from characterization.parsers.reader import guarded

from .parser_reference import cycler_data_dir
from .test_parsers_arbin_xlsx import RECORDS, write_arbin_xlsx

REPO = Path(__file__).resolve().parents[2]
MIB = 1 << 20
BOMB_MIB = 4000  # 3.9 GB unpacked, ~4 MB packed; below 4 GiB, so no zip64 records are needed


# --- building archives without holding them in memory ---------------------------------------


@functools.cache
def _packed_zero_mib() -> tuple[bytes, bytes]:
    """One MiB of zeros deflated, ending in a full flush (which resets the compressor, so every
    further MiB packs to the same bytes), and the empty final block that closes the stream."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    packer.compress(bytes(MIB))
    packer.flush(zlib.Z_FULL_FLUSH)  # the first MiB differs (no history yet); skip it
    block = packer.compress(bytes(MIB)) + packer.flush(zlib.Z_FULL_FLUSH)
    return block, zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)


@functools.cache
def _zeros_crc(mib: int) -> int:
    crc, chunk = 0, bytes(MIB)
    for _ in range(mib):
        crc = zlib.crc32(chunk, crc)
    return crc


def _zero_member(mib: int) -> tuple[int, int, int, Iterator[bytes]]:
    """(crc, packed size, unpacked size, packed chunks) of `mib` MiB of zeros."""
    block, final = _packed_zero_mib()
    chunks = (block for _ in range(mib))
    return _zeros_crc(mib), mib * len(block) + len(final), mib * MIB, iter([*chunks, final])


LOCAL_HEADER = struct.Struct("<4s5H3L2H")
CENTRAL_HEADER = struct.Struct("<4s6H3L5H2L")
END_RECORD = struct.Struct("<4s4H2LH")
UTF8_NAMES, DEFLATED, DOS_DATE_1980 = 0x800, 8, 33


def write_zip(path: Path, members: dict[str, bytes | int]) -> Path:
    """A deflated zip archive; a member given as an int is that many MiB of zeros, streamed
    (so a 3.9 GB member costs ~4 MB of disk and no memory)."""
    directory = []
    with path.open("wb") as out:
        for name, content in members.items():
            if isinstance(content, int):
                crc, packed_size, size, chunks = _zero_member(content)
            else:
                packer = zlib.compressobj(6, zlib.DEFLATED, -15)
                packed = packer.compress(content) + packer.flush()
                crc, packed_size, size = zlib.crc32(content), len(packed), len(content)
                chunks = iter([packed])
            encoded, offset = name.encode(), out.tell()
            common = (UTF8_NAMES, DEFLATED, 0, DOS_DATE_1980, crc, packed_size, size, len(encoded))
            out.write(LOCAL_HEADER.pack(b"PK\x03\x04", 20, *common, 0) + encoded)
            for chunk in chunks:
                out.write(chunk)
            entry = CENTRAL_HEADER.pack(b"PK\x01\x02", 20, 20, *common, 0, 0, 0, 0, 0, offset)
            directory.append(entry + encoded)
        start = out.tell()
        out.write(b"".join(directory))
        count, length = len(directory), out.tell() - start
        out.write(END_RECORD.pack(b"PK\x05\x06", 0, 0, count, count, length, start, 0))
    return path


NDAX_XML = {
    "VersionInfo.xml": b"<config><ServerVersion>BTS 8.0</ServerVersion></config>",
    "Step.xml": b"<root><config/></root>",
    "TestInfo.xml": b"<root><config/></root>",
}
SPREADSHEET = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOCUMENT_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
SHEET_XML = (
    b'<worksheet xmlns="' + SPREADSHEET + b'"><sheetData><row r="1"><c r="A1" t="inlineStr">'
    b"<is><t>Data_Point</t></is></c></row></sheetData></worksheet>"
)


def _workbook_xml(tail: bytes = b"") -> bytes:
    return (
        b'<workbook xmlns="' + SPREADSHEET + b'" xmlns:r="' + DOCUMENT_RELS.encode() + b'">'
        b'<sheets><sheet name="Global_Info" sheetId="1" r:id="rId1"/>'
        b'<sheet name="Channel_1_1" sheetId="2" r:id="rId2"/></sheets>' + tail + b"</workbook>"
    )


def _relationships(targets: dict[str, tuple[str, str]]) -> bytes:
    links = "".join(
        f'<Relationship Id="{rid}" Type="{DOCUMENT_RELS}/{kind}" Target="{target}"/>'
        for rid, (kind, target) in targets.items()
    )
    return f'<Relationships xmlns="{PACKAGE_RELS}">{links}</Relationships>'.encode()


def _xlsx_members(sheet2: bytes | int, workbook: bytes | None = None) -> dict[str, bytes | int]:
    """A minimal workbook with Arbin's sheet names; sheet2 is XML or MiB of zeros."""
    sheets = {f"rId{n}": ("worksheet", f"worksheets/sheet{n}.xml") for n in (1, 2)}
    return {
        "[Content_Types].xml": b"<Types/>",
        "_rels/.rels": _relationships({"rId1": ("officeDocument", "xl/workbook.xml")}),
        "xl/workbook.xml": workbook or _workbook_xml(),
        "xl/_rels/workbook.xml.rels": _relationships(sheets),
        "xl/worksheets/sheet1.xml": SHEET_XML,
        "xl/worksheets/sheet2.xml": sheet2,
    }


@pytest.fixture(scope="module")
def ndax_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bombs")
    return write_zip(folder / "cell 7.ndax", {**NDAX_XML, "data.ndc": BOMB_MIB})


@pytest.fixture(scope="module")
def xlsx_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bombs")
    return write_zip(folder / "export.xlsx", _xlsx_members(BOMB_MIB))


def test_the_bombs_are_small_on_disk_and_declare_gigabytes(ndax_bomb: Path, xlsx_bomb: Path):
    for bomb, member in ((ndax_bomb, "data.ndc"), (xlsx_bomb, "xl/worksheets/sheet2.xml")):
        assert bomb.stat().st_size < 5 * MIB
        with zipfile.ZipFile(bomb) as archive:
            assert archive.getinfo(member).file_size == BOMB_MIB * MIB
            with archive.open(member) as content:  # a valid stream of zeros, not garbage
                assert content.read(MIB) == bytes(MIB)


def test_a_small_archive_written_here_reads_back_with_zipfile(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "small.zip", {"a.txt": b"hello", "zeros.bin": 2})
    with zipfile.ZipFile(archive) as zf:
        assert zf.testzip() is None
        assert zf.read("a.txt") == b"hello"
        assert zf.read("zeros.bin") == bytes(2 * MIB)


# --- zip bombs ------------------------------------------------------------------------------

BOMB_SIZE = r"unpacks to 3\.9 GB, more than the 1 GB Kiln unpacks"
BOMB_RATIO = r"times its packed size, more than the 200 times Kiln accepts"


def test_detection_refuses_an_ndax_bomb_naming_the_size(ndax_bomb: Path) -> None:
    with pytest.raises(ParseError, match=r"cell 7\.ndax: its member 'data\.ndc' unpacks"):
        detect_format(ndax_bomb)
    generous = _zip.UnpackLimits(max_mb=1024, max_ratio=10_000)
    with pytest.raises(ParseError, match=rf"cell 7\.ndax: {BOMB_SIZE}"):
        detect_format(ndax_bomb, limits=generous)


def test_detection_refuses_an_xlsx_bomb(xlsx_bomb: Path) -> None:
    with pytest.raises(ParseError, match=BOMB_RATIO):
        detect_format(xlsx_bomb)


def test_the_readers_refuse_the_bombs_before_a_library_opens_them(
    ndax_bomb: Path, xlsx_bomb: Path
) -> None:
    with pytest.raises(ParseError, match=BOMB_RATIO):
        read_neware_binary(ndax_bomb, "neware_ndax")
    with pytest.raises(ParseError, match=BOMB_RATIO):
        read_arbin_xlsx(xlsx_bomb)
    mapping = ColumnMapping(
        name="generic",
        time_column="t",
        voltage_column="U",
        current_column="I",
        capacity_column="Q",
        capacity_restarts="never",
    )
    with pytest.raises(ParseError, match=BOMB_RATIO):
        read_mapped_file(xlsx_bomb, mapping)


def test_the_caps_are_parameters(ndax_bomb: Path) -> None:
    roomy = _zip.UnpackLimits(max_mb=8192, max_ratio=2000)
    assert detect_format(ndax_bomb, limits=roomy) == "neware_ndax"


# Linux carries a process' peak RSS across exec: a child started from the big pytest process
# would report pytest's own peak. So the child forks once more and measures that grandchild
# (RUSAGE_CHILDREN after waiting for it): a fresh process whose peak starts from the child's.
_CHILD = """
import json, os, resource, sys
read_end, write_end = os.pipe()
if os.fork():
    os.close(write_end)
    report = json.loads(os.read(read_end, 1 << 20).decode())
    os.wait()
    report["peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KB
    print(json.dumps(report))
    sys.exit(0)
os.close(read_end)
from characterization.parsers import ParseError, detect_format, read_cycler_file
from characterization.parsers._zip import UnpackLimits
from characterization.parsers.arbin_xlsx import read_arbin_xlsx
from characterization.parsers.neware_nda import read_neware_binary

limits = UnpackLimits(max_mb=int(sys.argv[1]), max_ratio=int(sys.argv[2]))
ndax, xlsx = sys.argv[3:5]
steps = [
    lambda: detect_format(ndax, limits=limits),
    lambda: detect_format(xlsx, limits=limits),
    lambda: read_neware_binary(ndax, "neware_ndax", limits=limits),
    lambda: read_arbin_xlsx(xlsx, limits=limits),
    lambda: read_cycler_file(ndax),
    lambda: read_cycler_file(xlsx),
]
messages = []
for step in steps:
    try:
        step()
        messages.append("read")
    except ParseError as exc:
        messages.append(str(exc))
os.write(write_end, json.dumps({"messages": messages}).encode())
os._exit(0)
"""


def test_refusing_the_bombs_keeps_the_process_peak_memory_under_the_bound(
    ndax_bomb: Path, xlsx_bomb: Path, settings
) -> None:
    """The whole process (imports included) stays under KILN_PARSE_PEAK_MEMORY_MB; reading
    either bomb would take over 3.9 GB. Run in a child so that this process's own peak (other
    tests) does not count."""
    caps = [str(settings.KILN_UNPACK_MAX_MB), str(settings.KILN_UNPACK_MAX_RATIO)]
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *caps, str(ndax_bomb), str(xlsx_bomb)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["messages"]) == 6
    assert all("unpacks to 3.9 GB" in m for m in report["messages"]), report["messages"]
    assert report["peak_mb"] < settings.KILN_PARSE_PEAK_MEMORY_MB


def test_a_member_that_unpacks_to_more_than_it_declares_is_refused(tmp_path: Path) -> None:
    """A lying header passes the declared-size check; unpacking in counted chunks finds it
    before calamine's zip reader (which does not stop at the declared size) would."""
    honest = write_zip(tmp_path / "liar.xlsx", _xlsx_members(3))
    data = bytearray(honest.read_bytes())
    name = b"xl/worksheets/sheet2.xml"
    # Declare 1 MiB (and the CRC of the first MiB) in both headers: zipfile would then read
    # 1 MiB and find a good CRC; the deflate stream still holds 3 MiB.
    for header, size_at in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = -1
        while (at := data.find(header, at + 1)) >= 0:
            name_at = at + (30 if header == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(name)] == name:
                struct.pack_into("<L", data, size_at - 8 + at, _zeros_crc(1))
                struct.pack_into("<L", data, size_at + at, MIB)
    honest.write_bytes(bytes(data))
    with zipfile.ZipFile(honest) as archive:
        assert archive.read(name.decode()) == bytes(MIB)  # zipfile itself is fooled
    with pytest.raises(ParseError, match="liar.xlsx: a zip archive .* damaged or truncated"):
        _zip.verify_archive(honest)


def test_an_archive_of_very_many_members_is_refused_before_its_directory_is_parsed(
    tmp_path: Path,
) -> None:
    many = write_zip(tmp_path / "many.ndax", {f"d{n}.ndc": b"" for n in range(10_001)})
    with pytest.raises(ParseError, match=r"many\.ndax: a zip archive of 10001 files"):
        detect_format(many)


# --- bounded reads in detection -------------------------------------------------------------


def test_an_xlsx_with_a_huge_workbook_xml_is_detected_from_its_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 16 MB of defined names after the sheets, random so that it packs like real text (~2:1).
    rng = random.Random(8)
    names = b"".join(
        b'<definedName name="n%d">Channel_1_1!$A$%d</definedName>' % (n, rng.randrange(10**9))
        for n in range(300_000)
    )
    workbook = _workbook_xml(b"<definedNames>" + names + b"</definedNames>")
    assert len(workbook) > 16 * 10**6
    path = write_zip(tmp_path / "big-workbook.xlsx", _xlsx_members(SHEET_XML, workbook))
    read_sizes: list[int] = []
    real_read = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        data = real_read(self, n)
        read_sizes.append(len(data))
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    assert detect_format(path) == "arbin_xlsx"
    assert 0 < sum(read_sizes) <= 256 * 1024


def test_a_file_that_only_starts_like_a_zip_gives_the_damaged_sentence(tmp_path: Path) -> None:
    fake = tmp_path / "run.ndax"
    fake.write_bytes(b"PK\x03\x04" + random.Random(3).randbytes(MIB))
    with pytest.raises(ParseError, match=r"run\.ndax: a zip archive .* damaged or truncated"):
        detect_format(fake)


# --- what reader.guarded makes of library errors -------------------------------------------


def _raise(exc: BaseException):
    def read():
        raise exc

    return read


@pytest.mark.parametrize(
    "exc",
    [
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
        zlib.error("Error -3 while decompressing data: invalid distance too far back"),
        zipfile.BadZipFile("Bad CRC-32 for file 'data.ndc'"),
        EOFError("Compressed file ended before the end-of-stream marker was reached"),
        struct.error("unpack requires a buffer of 4 bytes"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_decoding_errors_become_the_damaged_file_sentence(exc: BaseException) -> None:
    with pytest.raises(ParseError) as caught:
        guarded(Path("/store/ab/cd/cell 3.ndax"), "neware_ndax", _raise(exc))
    assert str(caught.value).startswith(
        "cell 3.ndax: the file is damaged or truncated and cannot be read as a Neware .ndax file"
    )
    assert str(caught.value).endswith("upload the complete file again.")
    assert caught.value.__cause__ is exc


def test_a_memory_error_says_the_file_needs_more_memory_than_the_worker_allows() -> None:
    with pytest.raises(ParseError) as caught:
        guarded(Path("long.ndax"), "neware_ndax", _raise(MemoryError()))
    assert str(caught.value) == (
        "long.ndax: reading it needs more memory than a Kiln worker may use "
        "(KILN_WORKER_MEMORY_MB); split the test into shorter files, or ask the lab manager "
        "to raise the limit."
    )


def test_celerys_soft_time_limit_passes_through_the_guard() -> None:
    from celery.exceptions import SoftTimeLimitExceeded

    with pytest.raises(SoftTimeLimitExceeded):
        guarded(Path("slow.res"), "arbin_res", _raise(SoftTimeLimitExceeded()))


@pytest.mark.testdata("cyclers")
def test_a_memory_error_inside_the_neware_reader_is_not_called_damage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from characterization.parsers import neware_nda

    def out_of_memory(_path: Path):
        raise MemoryError

    monkeypatch.setattr(neware_nda, "_via_fastnda", out_of_memory)
    with pytest.raises(ParseError, match="needs more memory than a Kiln worker may use"):
        read_cycler_file(cycler_data_dir() / "neware_navani_test.ndax")


# --- the worker's own memory limit ----------------------------------------------------------


def test_a_worker_process_gets_memory_error_beyond_its_limit() -> None:
    child = (
        "import lims.celery as c\n"
        "c.limit_memory(512)\n"
        "try:\n"
        "    block = bytearray(768 << 20)\n"
        "except MemoryError:\n"
        "    print('MemoryError')\n"
    )
    env = {**os.environ, "DEBUG": "1"}  # lims.celery loads the settings
    done = subprocess.run(
        [sys.executable, "-c", child],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )
    assert done.stdout.strip() == "MemoryError", done.stderr


def test_the_pool_processes_take_the_limit_from_settings(monkeypatch, settings) -> None:
    import lims.celery

    limits = []
    monkeypatch.setattr(lims.celery, "limit_memory", limits.append)
    settings.KILN_WORKER_MEMORY_MB = 3000
    lims.celery._limit_pool_process_memory()
    assert limits == [3000]


# --- bit flips and truncation of every real fixture -----------------------------------------

FIXTURES = [
    "arbin_navani_example.res",
    "biologic_navani_gcpl_5cycles.mpr",
    "biologic_yadg_ca_potential_step.mpr",
    "biologic_yadg_ca_potential_step.mpt",
    "biologic_yadg_gcpl_4p6V.mpr",
    "biologic_yadg_peis.mpr",
    "eis_impedancepy_biologic.mpt",
    "maccor_beep_PreDiag_000229_truncated.034",
    "neware_btsda_export_uio.csv",
    "neware_fastnda_nw4-120-1-6-53.ndax",
    "neware_navani_test.nda",
    "neware_navani_test.ndax",
    "neware_newarenda_unit27_rest_only.ndax",
]
SEEDS = range(4)
HANG_S = 60


class Hang(Exception):
    pass


def _no_hang(_signum, _frame):
    raise Hang(f"a reader ran for more than {HANG_S} s")


def _parses_or_says_why(path: Path) -> str:
    """ "ok" or the ParseError message; any other exception (or a hang) fails the test."""
    previous = signal.signal(signal.SIGALRM, _no_hang)
    signal.alarm(HANG_S)
    try:
        detect_format(path)
        read_cycler_file(path)
        return "ok"
    except ParseError as exc:
        assert str(exc).startswith(path.name), exc
        return str(exc)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _flipped(data: bytes, seed: int) -> bytes:
    """Four bytes XOR-ed with random non-zero values at random offsets, one in the first KB."""
    rng = random.Random(seed)
    copy = bytearray(data)
    for offset in (
        rng.randrange(min(1024, len(data))),
        *(rng.randrange(len(data)) for _ in range(3)),
    ):
        copy[offset] ^= rng.randrange(1, 256)
    return bytes(copy)


def _flip_in_directory_names(data: bytes) -> Iterator[tuple[str, bytes]]:
    """For a zip: copies with one byte of one central directory file name set to 0xFF (never
    valid UTF-8; the .ndax fixtures flag their names as UTF-8)."""
    at = -1
    while (at := data.find(b"PK\x01\x02", at + 1)) >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        copy = bytearray(data)
        copy[at + 46 + name_len // 2] = 0xFF
        yield f"name@{at}", bytes(copy)


def _fixture_bytes(name: str) -> bytes:
    path = cycler_data_dir() / name
    if not path.exists():
        pytest.skip(f"{name} is not in {cycler_data_dir()}")
    return path.read_bytes()


@pytest.mark.testdata("cyclers")
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", FIXTURES)
def test_a_bit_flipped_fixture_parses_or_raises_parse_error(
    name: str, seed: int, tmp_path: Path
) -> None:
    damaged = tmp_path / name
    damaged.write_bytes(_flipped(_fixture_bytes(name), seed))
    _parses_or_says_why(damaged)


@pytest.mark.testdata("cyclers")
@pytest.mark.parametrize("name", [n for n in FIXTURES if n.endswith(".ndax")])
def test_a_zip_fixture_with_a_flipped_directory_name_gives_the_damaged_sentence(
    name: str, tmp_path: Path
) -> None:
    for label, blob in _flip_in_directory_names(_fixture_bytes(name)):
        damaged = tmp_path / name
        damaged.write_bytes(blob)
        message = _parses_or_says_why(damaged)
        assert "a zip archive (as Neware .ndax and .xlsx files are) that is damaged" in message, (
            label
        )


@pytest.mark.testdata("cyclers")
@pytest.mark.parametrize("name", [n for n in FIXTURES if n.endswith(".ndax")])
def test_a_zip_fixture_with_a_flipped_compressed_byte_gives_the_damaged_sentence(
    name: str, tmp_path: Path
) -> None:
    data = _fixture_bytes(name)
    with zipfile.ZipFile(cycler_data_dir() / name) as archive:
        info = archive.getinfo("data.ndc")
    name_len, extra_len = struct.unpack_from("<2H", data, info.header_offset + 26)
    middle = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
    for xor in (0x01, 0x80, 0xFF):
        copy = bytearray(data)
        copy[middle] ^= xor
        damaged = tmp_path / name
        damaged.write_bytes(bytes(copy))
        assert "that is damaged or truncated" in _parses_or_says_why(damaged)


@pytest.mark.testdata("cyclers")
@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.77, 0.999])
@pytest.mark.parametrize("name", FIXTURES)
def test_a_truncated_fixture_parses_or_raises_parse_error(
    name: str, fraction: float, tmp_path: Path
) -> None:
    data = _fixture_bytes(name)
    cut = tmp_path / name
    cut.write_bytes(data[: max(1, int(len(data) * fraction))])
    _parses_or_says_why(cut)


@pytest.mark.parametrize("seed", range(8))
def test_a_bit_flipped_arbin_xlsx_parses_or_raises_parse_error(seed: int, tmp_path: Path):
    # As in a worker that has read a .ndax: fastnda swaps zlib's decompressor for python-isal's,
    # process-wide, and zipfile then raises isal's error on damage, not zlib.error.
    import fastnda.ndax  # noqa: F401

    data = write_arbin_xlsx(tmp_path / "export.xlsx", [RECORDS]).read_bytes()
    damaged = tmp_path / "flipped.xlsx"
    damaged.write_bytes(_flipped(data, seed))
    _parses_or_says_why(damaged)
    for _label, blob in _flip_in_directory_names(data):  # names not flagged UTF-8 here
        damaged.write_bytes(blob)
        _parses_or_says_why(damaged)
