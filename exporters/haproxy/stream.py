"""The answers to `show info;show stat;...` taken apart as they arrive.

HAProxy takes about as long to write a large `show stat` as we take to parse it and build its
families. The reader drains the socket first and parses a block of the rows it holds only while
HAProxy has nothing more for it (`work`), so HAProxy never waits for our parsing and both run at
once (HAProxy on one CPU, us on another). The result is the one `split_answers` and `parse_stat`
give on the whole answer, and so are the errors.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Collection

from exporters.core.errors import ParseError
from exporters.haproxy.mapping import STAT_COLUMNS
from exporters.haproxy.parse import StatHeader, StatTable, parse_header, parse_rows, split_answers

BLOCK_CHARS = 1 << 17  # rows parsed at a time by `work` (about 560 rows of HAProxy 2.6)


def answer_end(last: str, text: str) -> int:
    """Where the answer under way ends in `text`: the index of its empty line, or -1.

    Args:
        last: the answer's last character so far ("" when it has none yet).
        text: what follows.
    """
    if last in ("", "\n") and text.startswith("\n"):
        return 0
    i = text.find("\n\n")
    return i + 1 if i >= 0 else -1


class StatAnswer:
    """The `show stat` answer, fed as it arrives; its rows go to `sink` in blocks of complete
    lines, in order: a block each time `work` is called, the rest (at least one block, maybe
    empty) once the answer is whole.

    Args:
        sink: takes each block of rows, parsed (`parse_rows`).
        keep: the columns to keep (None: all).
        block: characters of rows `work` parses at a time (at least).
    """

    def __init__(
        self,
        sink: Callable[[StatTable], None],
        keep: Collection[str] | None = STAT_COLUMNS,
        block: int = BLOCK_CHARS,
    ) -> None:
        self._sink = sink
        self._keep = keep
        self._block = block
        self._header: StatHeader | None = None
        self._tail: list[str] = []  # the pieces of the last line, not complete yet
        self._held: list[str] = []  # complete lines not parsed yet, as they came
        self._blocks = 0
        self._last = ""

    def feed(self, text: str) -> int:
        """Take the next piece of the answer; return where in `text` the answer ended, or -1.

        Raises:
            ParseError: no header, or garbled rows (see `parse_header`, `parse_rows`), or what
                the sink raises.
        """
        end = answer_end(self._last, text)
        piece = text if end < 0 else text[:end]
        if piece:
            self._last = piece[-1]
        # only the new piece is searched: a line that never ends (a garbled target) costs its
        # length once, not once per piece
        cut = piece.rfind("\n") + 1
        if cut:
            self._lines("".join([*self._tail, piece[:cut]]))
            self._tail = [piece[cut:]] if cut < len(piece) else []
        elif piece:
            self._tail.append(piece)
        if end < 0:
            return -1
        if self._header is None:
            raise ParseError("show stat: no '# pxname,...' header")
        if self._held or not self._blocks:
            self._flush(len(self._held))
        return end + 1

    def work(self) -> bool:
        """Parse and hand on the next block of the rows held; False when none is held.

        Raises:
            ParseError: garbled rows, or what the sink raises.
        """
        size = count = 0
        while count < len(self._held) and size < self._block:
            size += len(self._held[count])
            count += 1
        if count:
            self._flush(count)
        return bool(count)

    def _lines(self, text: str) -> None:
        if self._header is None:
            first, _, text = text.partition("\n")
            self._header = parse_header(first, self._keep)
        if text:
            self._held.append(text)

    def _flush(self, count: int) -> None:
        """Parse the first `count` pieces held, hand them on as one block."""
        assert self._header is not None
        lines = [line for line in "".join(self._held[:count]).split("\n") if line]
        del self._held[:count]
        self._blocks += 1
        self._sink(parse_rows(self._header, lines))


class Answers:
    """The answers to `count` commands sent as `a;b;c`, fed as they arrive; answer number
    `stat_at` is a `show stat` answer taken apart by `stat` on the way.

    Call `feed` with each piece of bytes (and `work` while waiting for the next), then
    `close()` for the other answers as text.
    """

    def __init__(self, count: int, stat: StatAnswer, stat_at: int = 1) -> None:
        self._count = count
        self._stat = stat
        self._stat_at = stat_at
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._before: list[str] = []  # answers before the stat one, whole
        self._pieces: list[str] = []  # the text of an answer not yet whole (before or after)
        self._last = ""
        self._in_stat = False
        self._after = False

    def feed(self, data: bytes) -> None:
        """Take the next piece of the answer.

        Raises:
            ParseError: what `StatAnswer.feed` raises.
        """
        text = self._decoder.decode(data)
        while text and not self._after:
            if self._in_stat:
                end = self._stat.feed(text)
                if end < 0:
                    return
                self._in_stat, self._after = False, True
                text = text[end:]
                break
            end = answer_end(self._last, text)
            if end < 0:
                self._pieces.append(text)
                self._last = text[-1]
                return
            self._before.append("".join(self._pieces) + text[:end])
            self._pieces, self._last = [], ""
            text = text[end + 1 :]
            self._in_stat = len(self._before) == self._stat_at
        if text:
            self._pieces.append(text)

    def work(self) -> bool:
        """Parse a block of the `show stat` rows held (see `StatAnswer.work`); False if none.

        Raises:
            ParseError: what `StatAnswer.work` raises.
        """
        return self._in_stat and self._stat.work()

    def close(self) -> list[str]:
        """The answers, the `show stat` one as "" (its rows went to the sink).

        Raises:
            ParseError: fewer answers than commands, an unterminated one (truncated output), or
                text after the last one.
        """
        rest = "".join(self._pieces) + self._decoder.decode(b"", final=True)
        if not self._after:
            if self._in_stat:
                raise ParseError(
                    f"truncated output: answer {self._stat_at + 1} of {self._count} "
                    "does not end with an empty line"
                )
            # The stat answer never began: the whole-text splitter says what is missing.
            split_answers("".join(f"{a}\n" for a in self._before) + rest, self._count)
            raise ParseError("truncated output")  # not reached: the split above raises
        left = self._count - self._stat_at - 1
        if not left and rest:
            raise ParseError(f"expected {self._count} answers, got more (garbled output)")
        return [*self._before, "", *(split_answers(rest, left) if left else [])]
