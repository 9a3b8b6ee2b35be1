"""File names whose bytes are not UTF-8, made readable: the name a user dropped is the name they get back.

A file copied from a Windows share or an old archive often has a Latin-1 (cp1252) name on disk:
`Referat_Byr\\xe5d_\\xe6\\xf8_2024.txt`, which Python hands over with the undecodable bytes as lone surrogates
(surrogateescape). Such a name used to travel through the pipeline as `\\xNN` escapes, and a browser or
`curl -J` took the backslash for a folder and saved `xf8_2024.txt`. Here each byte that is not part of valid
UTF-8 is read as cp1252 (Latin-1 where cp1252 leaves a byte undefined), so `å`, `æ` and `ø` come back as
the letters they were; valid UTF-8 in the same name is kept as it is.
"""

from __future__ import annotations

import os
import re
from typing import Final

# A lone surrogate as surrogateescape makes it from an undecodable byte (0x80-0xff).
_ESCAPED_BYTE: Final = re.compile("[\udc80-\udcff]")
# The same byte as the ingest once wrote it into events and the store (`backslashreplace`): `\xe5`.
_WRITTEN_ESCAPE: Final = re.compile(r"\\x([89a-fA-F][0-9a-fA-F])")


def _byte_as_text(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8d, 0x8f, 0x90, 0x9d: undefined in cp1252
        return chr(byte)


def readable_name(name: str) -> str:
    """A name from the OS (`os.fsdecode`, `Path.name`) with its undecodable bytes read as cp1252/Latin-1."""
    try:
        text = os.fsencode(name).decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no undecodable byte made: nothing of the disk's bytes to recover
        return name.encode("utf-8", "replace").decode("utf-8")
    return _ESCAPED_BYTE.sub(lambda m: _byte_as_text(ord(m.group(0)) - 0xDC00), text)


def unescape_stored_name(name: str) -> str:
    """A name stored before names were made readable: its `\\xNN` escapes (bytes 0x80-0xff, which the ingest
    escaped only because they were not UTF-8) read as the cp1252/Latin-1 letters they stood for."""
    if "\\x" not in name:
        return name
    return _WRITTEN_ESCAPE.sub(lambda m: _byte_as_text(int(m.group(1), 16)), name)
