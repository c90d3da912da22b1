"""An incremental Server-Sent Events parser (the WHATWG event-stream format).

Bytes go in as they arrive, in chunks of any size; complete events come out. Lines may
end in ``\\n``, ``\\r\\n`` or ``\\r`` (a ``\\r`` ending one chunk and a ``\\n`` starting
the next are one line end), and a UTF-8 character may be split between chunks.
Comment lines (``:`` heartbeats) are skipped.

One deliberate difference from browsers: when the stream ends, an event whose ``data``
lines were complete but whose closing blank line never came is still delivered, since a
server that closes right after its terminal frame must not lose it. A line cut off
mid-way is dropped.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class SSEEvent:
    event: str
    data: str
    id: str = ""
    retry: int | None = None


class SSEParser:
    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._skip_lf = False
        self._started = False
        self._event = ""
        self._data: list[str] = []
        self._last_id = ""
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """The events completed by ``chunk``."""
        return self._feed_text(self._decoder.decode(chunk))

    def close(self) -> list[SSEEvent]:
        """The event left pending when the stream ends (see the module note)."""
        events = self._feed_text(self._decoder.decode(b"", final=True))
        self._buffer = ""
        return events + self._dispatch()

    def _feed_text(self, text: str) -> list[SSEEvent]:
        if not text:
            return []
        if not self._started:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._skip_lf:
            self._skip_lf = False
            text = text.removeprefix("\n")
        buffer = self._buffer + text
        events: list[SSEEvent] = []
        start = 0
        for end in _LINE_END.finditer(buffer):
            line = buffer[start : end.start()]
            start = end.end()
            if not line:
                events.extend(self._dispatch())
            else:
                self._field(line)
        self._buffer = buffer[start:]
        # A lone "\r" at the end may be the first half of "\r\n".
        self._skip_lf = buffer.endswith("\r") and start == len(buffer)
        return events

    def _field(self, line: str) -> None:
        if line.startswith(":"):
            return
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._last_id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)

    def _dispatch(self) -> list[SSEEvent]:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return []
        return [SSEEvent(event=event or "message", data="\n".join(data), id=self._last_id, retry=self._retry)]


def iter_events(chunks: Iterable[bytes]) -> Iterator[SSEEvent]:
    """The events of a byte stream, delivered as soon as each is complete."""
    parser = SSEParser()
    for chunk in chunks:
        yield from parser.feed(chunk)
    yield from parser.close()
