"""The only exceptions the parser raises: each says plainly why a document was refused."""

from __future__ import annotations


class DocumentError(Exception):
    """Base class: the document cannot be turned into a ParsedMeeting."""


class EmptyDocument(DocumentError):
    """The document is empty or holds no text at all."""


class UnsupportedDocument(DocumentError):
    """The bytes are not a format the parser reads, or the file is damaged."""


class NoTextLayer(UnsupportedDocument):
    """A PDF whose pages carry no extractable text (scans, drawings)."""

    def __init__(self, message: str = "no text layer — OCR not supported") -> None:
        super().__init__(message)


class EncryptedDocument(UnsupportedDocument):
    """A password-protected document that cannot be opened without the password."""


class NotMinutes(DocumentError):
    """Readable text, but without the structure of a meeting agenda or minutes."""


class LayoutNotRecognised(DocumentError):
    """A meeting document, but no layout rule found its agenda items (or only a sliver of them).

    The reason starts `layout not recognised: ` and says what was found, so the dead letter tells a user
    which layout to add; storing an empty meeting instead would hide the loss.
    """


class TooDeeplyNested(UnsupportedDocument):
    """Markup nested far deeper than any document (50,000 `<div>` in a field): refused at once, never retried.

    Walking it would take minutes or exhaust the interpreter's recursion limit; a RecursionError anywhere in a
    parse is turned into this too (`parse_document`), so it is never mistaken for a transient failure.
    """
