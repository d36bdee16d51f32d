"""The bytes of an uploaded CSV as text: UTF-8, UTF-16 and the encodings Excel saves in.

A teacher's file comes from Excel more often than from anywhere else: "CSV UTF-8", plain
"CSV" — GB18030/GBK on a Chinese Windows, Windows-1252 (a superset of Latin-1 for text)
on a Western one — or "Unicode text", which is UTF-16. :func:`decode_csv_bytes` reads
all of them, and refuses (``DataError`` code ``encoding``) what it cannot tell apart,
rather than return garbled text:

1. A byte-order mark decides: UTF-8, UTF-16 or UTF-32.
2. NUL bytes (valid UTF-8, but never in a CSV): UTF-16 without a mark, told by where
   the NULs are (a CSV is mostly digits, commas and line ends, whose high byte is 0);
   else a binary file.
3. Bytes that are valid UTF-8 are UTF-8.
4. Otherwise charset-normalizer chooses among GB18030, Windows-1252 and Latin-1: the
   reading with the least mess (its "chaos"). When both GB18030 and Windows-1252 read
   the bytes about as cleanly (a short file often does), GB18030 wins if nearly all of
   its non-ASCII characters are in GB2312, the common simplified characters (Latin-1
   read as GB18030 gives rare ones: an accented letter and the ASCII letter after it
   make a character outside GB2312). A file that
   another encoding reads clearly better (Shift_JIS, Big5, …) is refused, naming it.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from .errors import DataError

__all__ = ["LEGACY_ENCODINGS", "decode_csv_bytes"]

#: The 8-bit and multi-byte encodings told apart (besides UTF-8/16/32), in order of preference.
LEGACY_ENCODINGS = ("gb18030", "cp1252", "latin_1")

_BOMS = (  # (mark, codec, name); UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
)
_BINARY_MAGIC = (
    b"PK\x03\x04",  # zip: .xlsx, .ods, .numbers
    b"\xd0\xcf\x11\xe0",  # OLE: .xls
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
)
#: Share of the non-ASCII characters a GB18030 reading must have in GB2312.
GB2312_SHARE = 0.9
#: How much less mess (charset-normalizer's "chaos", 0..1) another encoding must show
#: than the chosen one for the file to be refused as that encoding.
CHAOS_MARGIN = 0.05
_SAMPLE = 20_000  # non-ASCII characters looked at for the GB2312 share
_WIDE = re.compile("[^\x00-\x7f]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")  # all but \\t \\n \\f \\r


def _name(codec: str) -> str:
    return codecs.lookup(codec).name


def _refuse(reason: str, message: str, encoding: str | None = None) -> DataError:
    return DataError(message, "encoding", params={"reason": reason, "encoding": encoding})


def _check_text(text: str, encoding: str) -> tuple[str, str]:
    """``(text, encoding)`` unless the text holds control characters (a binary file)."""
    text = text.rstrip("\x1a")  # an old DOS end-of-file mark
    bad = _CONTROL.search(text)
    if bad is not None:
        row = text.count("\n", 0, bad.start()) + 1
        raise DataError(
            f"The file holds control characters (row {row}): it does not look like a "
            "CSV text file. Save it from the spreadsheet as “CSV UTF-8”.",
            "encoding",
            row=row,
            params={"reason": "binary", "encoding": encoding},
        )
    return text, encoding


def _utf16_without_bom(data: bytes) -> str | None:
    """The UTF-16 codec whose high bytes are the NULs of ``data``, or None."""
    if len(data) % 2:
        return None
    even, odd = data[0::2], data[1::2]
    n = len(even)
    zeros_even, zeros_odd = even.count(0) / n, odd.count(0) / n
    if zeros_odd >= 0.3 and zeros_even <= 0.05:
        return "utf-16-le"
    if zeros_even >= 0.3 and zeros_odd <= 0.05:
        return "utf-16-be"
    return None


def _gb2312_share(text: str) -> float:
    """Share of the non-ASCII characters of ``text`` that GB2312 has (1.0 if none)."""
    wide = _WIDE.findall(text)[:_SAMPLE]
    if not wide:
        return 1.0
    common = 0
    for ch in wide:
        try:
            ch.encode("gb2312")
        except UnicodeEncodeError:
            continue
        common += 1
    return common / len(wide)


def _legacy(data: bytes) -> tuple[str, str]:
    """Decode bytes that are not UTF-8 and hold no NUL (step 4 of the module doc)."""
    chaos: dict[str, float] = {}
    for match in from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)):
        for codec in match.could_be_from_charset:
            chaos.setdefault(_name(codec), match.chaos)
    readings: list[tuple[str, str]] = []
    for codec in LEGACY_ENCODINGS:
        name = _name(codec)
        if name not in chaos:
            continue
        try:
            readings.append((name, data.decode(codec)))
        except UnicodeDecodeError:
            continue
    if not readings:
        raise _refuse(
            "undetected",
            "The file's text encoding could not be recognized (it is not UTF-8, UTF-16, "
            "GB18030/GBK or Windows-1252/Latin-1). Save it from the spreadsheet as "
            "“CSV UTF-8” and upload it again.",
        )
    least = min(chaos[name] for name, _ in readings)
    readings = [r for r in readings if chaos[r[0]] <= least + CHAOS_MARGIN]
    name, text = readings[0]
    if name == "gb18030" and len(readings) > 1 and _gb2312_share(text) < GB2312_SHARE:
        name, text = readings[1]  # Latin text read as rare Chinese characters
    best = from_bytes(data).best()
    if best is not None:
        other = _name(best.encoding)
        if other not in chaos and best.chaos + CHAOS_MARGIN < chaos[name] and str(best) != text:
            raise _refuse(
                "unsupported",
                f"The file looks like {other} text, which bpviz does not read. Save it "
                "from the spreadsheet as “CSV UTF-8” and upload it again.",
                other,
            )
    return _check_text(text, name)


def decode_csv_bytes(data: bytes) -> tuple[str, str]:
    """The text of an uploaded file and the encoding it was read in.

    Args:
        data: the file's bytes, as uploaded.

    Returns:
        ``(text, encoding)``: the text without a byte-order mark, and the Python codec
        name it was decoded with (``"utf-8"``, ``"utf-8-sig"``, ``"utf-16-le"``,
        ``"utf-16-be"``, ``"utf-32-le"``, ``"utf-32-be"``, ``"gb18030"``,
        ``"cp1252"`` or ``"iso8859-1"``).

    Raises:
        DataError: code ``encoding`` with ``params["reason"]`` ``"binary"`` (a
            spreadsheet or other binary file, or control characters), ``"invalid"``
            (a byte-order mark followed by bytes that do not decode),
            ``"undetected"`` or ``"unsupported"`` (``params["encoding"]`` names the
            encoding it looks like); see the module doc for how encodings are told
            apart.
    """
    data = bytes(data)
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(codec)
            except UnicodeDecodeError as exc:
                body = data[len(bom) : len(bom) + exc.start]
                row = body.decode(codec, errors="replace").count("\n") + 1
                raise DataError(
                    f"The file starts with a {codec.upper()} byte-order mark, but row {row} "
                    f"is not {codec.upper()} text. Save it from the spreadsheet as “CSV "
                    "UTF-8” and upload it again.",
                    "encoding",
                    row=row,
                    params={"reason": "invalid", "encoding": name},
                ) from None
            return _check_text(text, name)
    if b"\x00" in data:
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            try:
                return _check_text(data.decode(utf16), utf16)
            except UnicodeDecodeError:
                pass
        raise _refuse(
            "binary",
            "The file holds NUL bytes but is not UTF-16 text: it does not look like a CSV "
            "text file. Save it from the spreadsheet as “CSV UTF-8”.",
        )
    try:
        return _check_text(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    if data.startswith(_BINARY_MAGIC):
        raise _refuse(
            "binary",
            "The file is not a text file (an Excel workbook, a PDF or an image?). Save it "
            "from the spreadsheet as “CSV UTF-8” and upload it again.",
        )
    return _legacy(data)
