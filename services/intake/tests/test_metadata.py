"""What a stored photo keeps of the file it came in (the picture, never its metadata), and whose
upload its id says it is."""

import base64
import struct
import zlib

import pytest

from gridloop.intake.domain import ReportRefused
from gridloop.intake.metadata import strip_metadata
from gridloop.shared.photos import PhotoSeal, UnknownPhotos

pytestmark = pytest.mark.unit
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
IEND = PNG_1PX[-12:]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) & 1)


def _webp(*chunks: bytes) -> bytes:
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_a_png_loses_its_text_exif_and_time_chunks_and_what_follows_its_end() -> None:
    tagged = (
        PNG_1PX[:-12]
        + _png_chunk(b"tEXt", b"GPS\x0030.205N")
        + _png_chunk(b"eXIf", b"MM\x00*device")
        + _png_chunk(b"tIME", b"\x07\xea\x0c\x07\x00\x00\x00")
        + IEND
        + b"<script>hidden</script>"
    )
    assert strip_metadata(tagged, "image/png") == PNG_1PX


def test_a_webp_loses_its_exif_and_xmp_chunks_and_the_flags_that_announce_them() -> None:
    picture = _riff_chunk(b"VP8L", b"\x2f\x00\x00\x00\x00")
    tagged = _webp(
        _riff_chunk(b"VP8X", bytes([0x08 | 0x04 | 0x10]) + b"\x00" * 9),
        picture,
        _riff_chunk(b"EXIF", b"MM\x00*GPS 30.205N"),
        _riff_chunk(b"XMP ", b"<x:xmpmeta>device</x:xmpmeta>"),
    )
    assert strip_metadata(tagged, "image/webp") == _webp(_riff_chunk(b"VP8X", b"\x10" + b"\x00" * 9), picture)


def test_a_jpeg_loses_its_comments_and_iptc_and_a_damaged_one_is_refused() -> None:
    jpeg = b"\xff\xd8\xff\xdb\x00\x04\x00\x00\xff\xda\x00\x04\x00\x00\x12\xff\x00\x34\xff\xd9"
    comment = b"\xff\xfe" + struct.pack(">H", 9) + b"Huawei!"
    iptc = b"\xff\xed" + struct.pack(">H", 7) + b"IPTC\x00"
    tagged = jpeg[:2] + comment + iptc + jpeg[2:] + b"trailing bytes"
    assert strip_metadata(tagged, "image/jpeg") == jpeg
    for damaged in (jpeg[:-2], b"\xff\xd8\xff\xe1\x00", b"not a jpeg"):
        with pytest.raises(ReportRefused) as refused:
            strip_metadata(damaged, "image/jpeg")
        assert refused.value.code == "damaged_image"


def test_a_photo_id_is_its_uploaders_only_under_the_same_key() -> None:
    seal = PhotoSeal("k" * 48)
    mine = seal.seal("0193a0f2-photo", "gw-1")
    seal.check_own([mine], "gw-1")
    for photos, owner in (
        ([mine], "gw-2"),
        ([mine.replace("photo", "other")], "gw-1"),
        (["0193a0f2-photo"], "gw-1"),
        (["照片.签名"], "gw-1"),
    ):
        with pytest.raises(UnknownPhotos):
            seal.check_own(photos, owner)
    with pytest.raises(UnknownPhotos):
        PhotoSeal("j" * 48).check_own([mine], "gw-1")
