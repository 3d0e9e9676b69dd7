"""Decoding that can only copy: every answer token must continue a copy of the shown
passages, byte for byte.

The model still chooses the words, by its own logits; the constraint only masks every
token that would leave the passages. It works on bytes, so a token that ends inside an
Arabic letter is fine: the next token has to finish that letter as the passage does.
An answer is one or more *segments*, each a run of whole words copied from one passage,
joined by connectors ("، " "و" "and" ","). The passage a segment was copied from is its
citation, decided here and not by the model.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

# Tokens longer than this are never needed to copy: shorter ones spell the same bytes.
MAX_TOKEN_BYTES = 32
CONNECTORS = ("،", "، ", ",", ", ", " و", " and", " ،", ";", "؛")
# A preposition the answer may open with though the passage has none there: the model
# answers "في 19 نوفمبر 1954" where the passage writes "(19 نوفمبر 1954)".
LEADS = ("في",)


@dataclass(frozen=True)
class Vocabulary:
    """The model's tokens as bytes, and the few tokens that end or join segments."""

    token_of: dict[bytes, int]
    end_ids: frozenset[int]  # end of the answer
    marker_ids: frozenset[int]  # tokens that open a citation marker ("[", " [")
    connector_ids: frozenset[int]
    refusal_id: int | None = None  # first token of the refusal marker
    lead_ids: frozenset[int] = frozenset()  # words an answer may open with, copied or not

    @cached_property
    def bytes_of(self) -> dict[int, bytes]:
        """Each token's bytes."""
        return {token: data for data, token in self.token_of.items()}


def is_word_char(char: str) -> bool:
    """Letters, digits and Arabic diacritics/marks belong to words."""
    return char.isalnum() or char in "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0640"


# One-letter Arabic proclitics (and, so, with, for, as): a copy may start after one,
# so "في أكتوبر" can be copied from "وفي أكتوبر".
PROCLITICS = frozenset("وفبلك")


@dataclass
class _Text:
    """One passage as bytes, with the byte offsets where words start and end, and the
    offsets an answer may stop at: any character boundary that is not inside a word."""

    data: bytes
    word_starts: list[int]
    word_ends: list[int]
    stops: set[int]

    @classmethod
    def of(cls, text: str) -> _Text:
        starts, ends, stops, offset, previous = [], [], set(), 0, False
        for k, char in enumerate(text):
            word = is_word_char(char)
            if word and not previous:
                starts.append(offset)
                if char in PROCLITICS and k + 2 < len(text) and text[k + 1 : k + 3].isalpha():
                    starts.append(offset + len(char.encode("utf-8")))
            if previous and not word:
                ends.append(offset)
            if not (previous and word):
                stops.add(offset)
            offset += len(char.encode("utf-8"))
            previous = word
        if previous:
            ends.append(offset)
        stops.add(offset)
        return cls(text.encode("utf-8"), starts, ends, stops)

    def trimmed(self, start: int, at: int) -> tuple[int, int] | None:
        """The words of ``data[start:at]``, without spaces or punctuation around them."""
        start = next((s for s in self.word_starts if s >= start), at)
        end = max((e for e in self.word_ends if e <= at), default=start)
        return (start, end) if start < end else None


@dataclass(frozen=True)
class Segment:
    """A copied run of words: ``passage`` (0-based) and its byte range there."""

    passage: int
    start: int
    end: int


@dataclass
class Copying:
    """Where the segment being written could be in the passages: (passage, start, at)."""

    places: list[tuple[int, int, int]]


@dataclass
class SpanConstraint:
    """The state of an extractive answer: finished segments and the one being copied."""

    passages: Sequence[str]
    vocab: Vocabulary
    max_segments: int = 6
    segments: list[Segment] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)  # the connector before each later segment
    lead: str = ""  # the opening preposition, if the model wrote one
    refused: bool = False
    done: bool = False
    # log P(refusal) among the tokens allowed at the first step: how strongly the model
    # would rather say the passages do not answer.
    refusal_logprob: float | None = None

    def __post_init__(self) -> None:
        self._texts = [_Text.of(p) for p in self.passages]
        self._copying: Copying | None = None
        self._after_marker = False
        self._after_lead: set[tuple[int, int, int]] = set()

    # What may come next ------------------------------------------------------

    def _starts(self) -> Iterable[tuple[int, int, int]]:
        """Word starts a new segment may copy from; never one a segment already used."""
        used = {(segment.passage, segment.start) for segment in self.segments}
        for i, text in enumerate(self._texts):
            for start in text.word_starts:
                if (i, start) in used:
                    continue
                yield i, start, start
                if start and text.data[start - 1 : start] == b" ":
                    yield i, start, start - 1  # a token may bring the space before a word

    def _continuations(self, places: Iterable[tuple[int, int, int]]) -> dict[int, list]:
        moves: dict[int, list[tuple[int, int, int]]] = {}
        for i, start, at in places:
            data = self._texts[i].data
            # Right after an opening preposition, a space of the model's own may come first.
            spaced = (i, start, at) in self._after_lead
            for end in range(at + (0 if spaced else 1), min(len(data), at + MAX_TOKEN_BYTES) + 1):
                for piece in (b" " + data[at:end], data[at:end]) if spaced else (data[at:end],):
                    token = self.vocab.token_of.get(piece) if piece else None
                    if token is not None:
                        moves.setdefault(token, []).append((i, start, end))
        return moves

    def _closable(self) -> list[tuple[int, int, int]]:
        """The places of the current segment where it may stop, with whole words in it."""
        copying = self._copying
        if copying is None:
            return []
        return [
            (i, *words)
            for i, start, at in copying.places
            if at in self._texts[i].stops and (words := self._texts[i].trimmed(start, at))
        ]

    def allowed(self) -> dict[int, list[tuple[int, int, int]]]:
        """Each token that may come next, with the copy places it leads to (empty for a
        token that ends, joins or cites)."""
        if self.done:
            return {}
        if self._after_marker:
            moves: dict[int, list] = {key: [] for key in self.vocab.end_ids}
            if len(self.segments) < self.max_segments:
                moves.update({key: [] for key in self.vocab.connector_ids})
            return moves
        if self._copying is None:
            moves = self._continuations(self._starts())
            if not self.segments:
                for token in self.vocab.lead_ids:
                    moves.setdefault(token, [])
                if self.vocab.refusal_id is not None:
                    moves.setdefault(self.vocab.refusal_id, [])
            return moves
        moves = self._continuations(self._copying.places)
        if self._closable():
            for token in self.vocab.end_ids | self.vocab.marker_ids:
                moves.setdefault(token, [])
            if len(self.segments) < self.max_segments - 1:
                for token in self.vocab.connector_ids:
                    moves.setdefault(token, [])
        return moves

    # Taking a token ------------------------------------------------------------

    def _close_segment(self) -> None:
        i, start, end = min(self._closable())  # the best-ranked passage holding it
        self.segments.append(Segment(i, start, end))
        self._copying = None

    def advance(self, token: int, moves: dict[int, list]) -> str:
        """Take ``token`` (one of ``allowed()``); say what it was: "copy", "join", "cite",
        "end" or "refuse"."""
        places = moves[token]
        if token in self.vocab.lead_ids and self._copying is None and not self.segments:
            # Either the start of a copy, or a free opening word before one.
            self.lead = self.vocab.bytes_of[token].decode("utf-8", "replace")
            fresh = [(i, s, at) for i, s, at in self._starts() if at == s]
            self._after_lead = set(fresh)
            self._copying = Copying([*places, *fresh])
            return "copy"
        self._after_lead = set()
        if places:
            if self._copying is None:
                self._copying = Copying(places)
            self._copying.places = places
            return "copy"
        if self._copying is None and not self._after_marker and not self.segments:
            self.refused = self.done = True
            return "refuse"
        if self._copying is not None:
            self._close_segment()
        if token in self.vocab.end_ids:
            self.done = True
            return "end"
        if token in self.vocab.marker_ids:
            self._after_marker = True
            return "cite"
        self._after_marker = False
        self.joins.append(self.vocab.bytes_of[token].decode("utf-8", "replace"))
        return "join"

    def finish(self) -> None:
        """End the answer where it stands (out of tokens): the segment being copied is
        kept if it holds whole words."""
        if self._copying is not None and self._closable():
            self._close_segment()
        self._copying = None
        self.done = True

    def segment_text(self, segment: Segment) -> str:
        """The words of ``segment`` as the passage writes them."""
        return self._texts[segment.passage].data[segment.start : segment.end].decode("utf-8")

    def char_start(self, segment: Segment) -> int:
        """Where ``segment`` starts in its passage, in characters."""
        return len(self._texts[segment.passage].data[: segment.start].decode("utf-8"))


@dataclass(frozen=True)
class Copied:
    """The words copied from one passage: its number, and where they are in it."""

    n: int
    quote: str
    start: int  # character offsets in the passage text
    end: int


def compose(constraint: SpanConstraint) -> tuple[str, list[Copied]]:
    """The answer text, a citation marker after each run of segments from one passage,
    and the copied words of each cited passage (first segment first)."""
    parts: list[str] = []
    copied: dict[int, list[Copied]] = {}
    segments = constraint.segments
    for k, segment in enumerate(segments):
        if k:
            join = constraint.joins[k - 1] if k - 1 < len(constraint.joins) else "،"
            parts.append(_spaced(join))
        text = constraint.segment_text(segment)
        if not k and constraint.lead and not text.startswith(constraint.lead):
            parts.append(f"{constraint.lead} ")
        parts.append(text)
        if k + 1 == len(segments) or segments[k + 1].passage != segment.passage:
            parts.append(f" [{segment.passage + 1}]")
        start = constraint.char_start(segment)
        copied.setdefault(segment.passage + 1, []).append(
            Copied(segment.passage + 1, text, start, start + len(text))
        )
    cited = [
        Copied(n, " … ".join(c.quote for c in spans), spans[0].start, spans[0].end)
        for n, spans in copied.items()
    ]
    return "".join(parts), cited


def _spaced(join: str) -> str:
    """A connector as it sits between two segments: "، " ", " " و" " and "."""
    stripped = join.strip()
    if stripped in ("و",):
        return " و"
    if stripped.isalpha():
        return f" {stripped} "
    return f"{stripped} "
