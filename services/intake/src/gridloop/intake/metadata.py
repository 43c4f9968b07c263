"""What a stored photo keeps: its picture, never where or with what it was taken. The app strips
metadata before it uploads, but other clients (the console, Open311 apps, a script) need not, so
intake strips it again from every photo it stores, by rewriting the file's own containers without
decoding the picture: lossless, and fast enough for every upload.

- JPEG: Exif and XMP (APP1), IPTC/Photoshop (APP13), the other application segments and comments
  go; JFIF (APP0), the ICC colour profile (APP2) and Adobe's colour transform (APP14) stay. The
  orientation alone is kept, in an Exif segment of its own, so a phone photo still stands upright.
  Anything after the end of the image (the previews of a multi-picture file, or smuggled bytes)
  goes too.
- PNG: text chunks (tEXt, zTXt, iTXt), eXIf and tIME go, and anything after IEND.
- WebP: the EXIF and XMP chunks go, and their flags in VP8X.
- HEIC/HEIF: refused. Its Exif is an item of the file's box tree, which cannot be cut out without
  rewriting the offsets of every other item; the app converts to JPEG before it uploads.

Pure functions: bytes in, bytes out, no I/O."""

import struct

from gridloop.intake.domain import ReportRefused

STRIPPED_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})

_SOI, _EOI, _SOS, _COM = 0xD8, 0xD9, 0xDA, 0xFE
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RSTn: markers without a length
_JPEG_KEPT_APPS = {0xE0: b"", 0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}  # marker -> how its data must start
_EXIF = b"Exif\x00\x00"
_ORIENTATION_TAG = 0x0112
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_PNG_DROPPED = frozenset({b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"})
_WEBP_DROPPED = frozenset({b"EXIF", b"XMP "})
_VP8X_EXIF_AND_XMP = 0x08 | 0x04


class _Damaged(Exception):
    pass


def _damaged() -> ReportRefused:
    return ReportRefused("damaged_image", "照片文件已损坏，无法读取 (the image file is damaged)")


def strip_metadata(data: bytes, content_type: str) -> bytes:
    """The photo without its metadata; refused when its type keeps metadata we cannot cut out, or
    when its container is damaged."""
    if content_type not in STRIPPED_TYPES:
        raise ReportRefused(
            "unsupported_image",
            "暂不接受 HEIC/HEIF 照片（无法去除其中的位置信息），请转为 JPEG 后上传 "
            "(HEIC/HEIF photos are not taken: their location data cannot be removed; upload a JPEG)",
            {"content_type": content_type},
        )
    try:
        match content_type:
            case "image/jpeg":
                return _jpeg(data)
            case "image/png":
                return _png(data)
            case _:
                return _webp(data)
    except (_Damaged, struct.error, IndexError, ValueError) as exc:
        raise _damaged() from exc


def _jpeg(data: bytes) -> bytes:
    if data[:2] != b"\xff\xd8":
        raise _Damaged
    out = [data[:2]]
    orientation: int | None = None
    at = 2
    while True:
        if data[at] != 0xFF:
            raise _Damaged
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker == _EOI:
            out.append(data[at : at + 2])
            break
        if marker in _STANDALONE or marker == _SOI:
            out.append(data[at : at + 2])
            at += 2
            continue
        (length,) = struct.unpack(">H", data[at + 2 : at + 4])
        end = at + 2 + length
        if length < 2 or end > len(data):
            raise _Damaged
        body = data[at + 4 : end]
        if marker == 0xE1 and body.startswith(_EXIF):
            orientation = orientation or _orientation(body[len(_EXIF) :])
        if not (0xE0 <= marker <= 0xEF or marker == _COM) or _kept_app(marker, body):
            if marker == _SOS and orientation not in (None, 1):
                after_jfif = 2 if out[1:2] and out[1].startswith(b"\xff\xe0") else 1
                out.insert(after_jfif, _exif_with_orientation(orientation))
                orientation = None
            out.append(data[at:end])
        at = end
        if marker == _SOS:
            scan_end = _end_of_scan(data, at)
            out.append(data[at:scan_end])
            at = scan_end
    return b"".join(out)


def _kept_app(marker: int, body: bytes) -> bool:
    start = _JPEG_KEPT_APPS.get(marker)
    return start is not None and body.startswith(start)


def _end_of_scan(data: bytes, at: int) -> int:
    """Where the entropy-coded data that follows a scan header ends: at the next marker that is
    neither a stuffed zero nor a restart."""
    while True:
        at = data.index(b"\xff", at)
        following = data[at + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            at += 1
            continue
        return at


def _orientation(tiff: bytes) -> int | None:
    """The Orientation tag of an Exif block's first directory, if it has one (and the block can be read)."""
    try:
        return _orientation_tag(tiff)
    except (struct.error, IndexError):
        return None


def _orientation_tag(tiff: bytes) -> int | None:
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        return None
    (first,) = struct.unpack(order + "I", tiff[4:8])
    (count,) = struct.unpack(order + "H", tiff[first : first + 2])
    for n in range(count):
        entry = tiff[first + 2 + 12 * n : first + 14 + 12 * n]
        tag, kind = struct.unpack(order + "HH", entry[:4])
        if tag == _ORIENTATION_TAG and kind == 3:
            (value,) = struct.unpack(order + "H", entry[8:10])
            return int(value) if 1 <= value <= 8 else None
    return None


def _exif_with_orientation(orientation: int) -> bytes:
    """An Exif segment that says nothing but how the picture is turned."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", _ORIENTATION_TAG, 3, 1, orientation, 0) + struct.pack(">I", 0)
    body = _EXIF + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def _png(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise _Damaged
    out = [_PNG_SIGNATURE]
    at = len(_PNG_SIGNATURE)
    while True:
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        if kind == b"IEND":  # written as it should be, whatever a careless encoder put there
            out.append(_PNG_END)
            return b"".join(out)
        end = at + 12 + length
        if end > len(data):
            raise _Damaged
        if kind not in _PNG_DROPPED:
            out.append(data[at:end])
        at = end


def _webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise _Damaged
    (size,) = struct.unpack("<I", data[4:8])
    end_of_file = 8 + size
    if end_of_file > len(data):
        raise _Damaged
    chunks = []
    at = 12
    while at < end_of_file:
        kind = data[at : at + 4]
        (length,) = struct.unpack("<I", data[at + 4 : at + 8])
        end = at + 8 + length + (length & 1)
        if end > end_of_file:
            raise _Damaged
        chunk = data[at:end]
        if kind == b"VP8X":
            chunk = chunk[:8] + bytes([chunk[8] & ~_VP8X_EXIF_AND_XMP & 0xFF]) + chunk[9:]
        if kind not in _WEBP_DROPPED:
            chunks.append(chunk)
        at = end
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body
