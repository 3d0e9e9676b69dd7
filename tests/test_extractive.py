"""The copy constraint on a small byte-level vocabulary: what it allows, what it refuses."""

import random

import pytest

from rag.answer.extractive import SpanConstraint, Vocabulary, compose

PASSAGES = [
    "The port director of Byblos is Nadia Khoury. She took office in 2021.",
    "قال الرئيس قاسم جومارت توكاييف إن الدول الأعضاء هي كازاخستان، وروسيا، وبيلاروسيا، وأرمينيا.",
    "She took office in 2021. The port handles 90 ships a month.",
    "ولد الكاتب (19 نوفمبر 1954) في القاهرة.",
]
END, MARKER, REFUSE = 1000, 1001, 1002
ALEF_LAM_HALF_RA = "الر".encode()[:-1]  # "ال" and the first byte of "ر"


def _vocabulary() -> Vocabulary:
    token_of = {bytes([b]): b for b in range(256)}
    words = [" Nadia", " Khoury", "Nad", "ia", " port", "The", " director", "الرئيس", " قاسم"]
    words += ["كازاخستان", "،", " و", ", ", " [", ALEF_LAM_HALF_RA, "في"]
    for i, word in enumerate(words, start=300):
        token_of[word if isinstance(word, bytes) else word.encode()] = i
    return Vocabulary(
        token_of=token_of,
        end_ids=frozenset({END}),
        marker_ids=frozenset({token_of[b" ["], MARKER}),
        connector_ids=frozenset({token_of["،".encode()], token_of[" و".encode()]}),
        refusal_id=REFUSE,
        lead_ids=frozenset({token_of["في".encode()]}),
    )


VOCAB = _vocabulary()


def _write(constraint: SpanConstraint, text: str) -> None:
    """Copy ``text`` byte by byte, each byte checked against what is allowed."""
    for byte in text.encode():
        moves = constraint.allowed()
        assert byte in moves, f"{bytes([byte])!r} refused after {constraint.segments}"
        constraint.advance(byte, moves)


def test_random_answers_are_always_whole_words_of_the_passages():
    rng = random.Random(7)
    for _ in range(300):
        constraint = SpanConstraint(PASSAGES, VOCAB)
        for _ in range(rng.randint(1, 60)):
            moves = constraint.allowed()
            if not moves:
                break
            constraint.advance(rng.choice(sorted(moves)), moves)
        constraint.finish()
        text, cited = compose(constraint)
        for segment in constraint.segments:
            words = constraint.segment_text(segment)
            passage = PASSAGES[segment.passage]
            assert words in passage and words.strip() == words and words
            start = passage.encode()[: segment.start].decode()
            # Starts at a word, or after a one-letter proclitic that starts one.
            proclitic = len(start) >= 1 and start[-1] in "وفبلك" and not start[-2:-1].isalnum()
            assert not start or not start[-1].isalnum() or proclitic
            after = passage.encode()[segment.end :].decode()
            assert not after or not after[0].isalnum()  # ends at a word's end
            assert f"{words}" in text
        for c in cited:
            assert PASSAGES[c.n - 1][c.start : c.end] == c.quote.split(" … ")[0]


def test_the_answer_cannot_end_inside_a_word():
    constraint = SpanConstraint(PASSAGES, VOCAB)
    _write(constraint, "Nad")
    assert END not in constraint.allowed()
    _write(constraint, "ia")
    assert END in constraint.allowed()
    assert constraint.advance(END, constraint.allowed()) == "end"
    assert compose(constraint) == ("Nadia [1]", compose(constraint)[1])


def test_nothing_outside_the_passages_can_be_written():
    constraint = SpanConstraint(PASSAGES, VOCAB)
    _write(constraint, "Nadia Khoury")
    moves = constraint.allowed()
    assert ord(".") in moves and ord("x") not in moves and ord(" ") not in moves
    with pytest.raises(AssertionError):
        _write(SpanConstraint(PASSAGES, VOCAB), "Nadia Sarkozy")


def test_an_arabic_letter_split_across_tokens_is_finished_as_the_passage_writes_it():
    constraint = SpanConstraint(PASSAGES, VOCAB)
    moves = constraint.allowed()
    half = VOCAB.token_of[ALEF_LAM_HALF_RA]
    assert half in moves
    constraint.advance(half, moves)
    moves = constraint.allowed()
    assert END not in moves  # inside a letter
    # Only bytes that complete a letter the passages write after "ال": الرئيس الدول الأعضاء
    assert set(moves) == {"ر".encode()[-1], "د".encode()[-1], "أ".encode()[-1]}
    constraint.advance("ر".encode()[-1], moves)
    _write(constraint, "ئيس")
    constraint.advance(END, constraint.allowed())
    assert compose(constraint)[0] == "الرئيس [2]"


def test_a_list_from_one_sentence_and_segments_joined_by_connectors():
    constraint = SpanConstraint(PASSAGES, VOCAB)
    _write(constraint, "كازاخستان، وروسيا، وبيلاروسيا، وأرمينيا")
    constraint.advance(END, constraint.allowed())
    assert compose(constraint)[0] == "كازاخستان، وروسيا، وبيلاروسيا، وأرمينيا [2]"

    constraint = SpanConstraint(PASSAGES, VOCAB)
    _write(constraint, "Nadia Khoury")
    join = VOCAB.token_of[" و".encode()]
    assert constraint.advance(join, constraint.allowed()) == "join"
    _write(constraint, "كازاخستان")
    constraint.advance(END, constraint.allowed())
    text, cited = compose(constraint)
    assert text == "Nadia Khoury [1] وكازاخستان [2]"
    assert [(c.n, c.quote) for c in cited] == [(1, "Nadia Khoury"), (2, "كازاخستان")]


def test_a_marker_closes_a_segment_and_the_constraint_numbers_it():
    constraint = SpanConstraint(PASSAGES, VOCAB)
    _write(constraint, "She took office in 2021")
    assert constraint.advance(MARKER, constraint.allowed()) == "cite"
    # In passages 1 and 3: the better-ranked one is cited, whatever the model would write.
    assert constraint.segments[-1].passage == 0
    assert set(constraint.allowed()) == {END} | VOCAB.connector_ids


def test_a_segment_is_never_copied_twice():
    constraint = SpanConstraint(PASSAGES, VOCAB)
    _write(constraint, "Nadia")
    constraint.advance(VOCAB.token_of["،".encode()], constraint.allowed())
    assert ord("N") not in constraint.allowed() or all(
        start != PASSAGES[0].index("Nadia") for _, start, _ in constraint.allowed()[ord("N")]
    )


def test_refusing_is_only_possible_first():
    constraint = SpanConstraint(PASSAGES, VOCAB)
    assert constraint.advance(REFUSE, constraint.allowed()) == "refuse"
    assert constraint.refused and constraint.done and constraint.allowed() == {}
    constraint = SpanConstraint(PASSAGES, VOCAB)
    _write(constraint, "Nadia")
    assert REFUSE not in constraint.allowed()


def test_the_answer_may_open_with_a_preposition_the_passage_does_not_have_there():
    lead = VOCAB.token_of["في".encode()]
    constraint = SpanConstraint(PASSAGES, VOCAB)
    assert constraint.advance(lead, constraint.allowed()) == "copy"
    _write(constraint, " 19 نوفمبر 1954")
    constraint.advance(END, constraint.allowed())
    assert compose(constraint)[0] == "في 19 نوفمبر 1954 [4]"
    # Or the preposition is where the passage has it, and copied with what follows.
    constraint = SpanConstraint(PASSAGES, VOCAB)
    constraint.advance(lead, constraint.allowed())
    _write(constraint, " القاهرة")
    constraint.advance(END, constraint.allowed())
    assert compose(constraint)[0] == "في القاهرة [4]"
    # Only first: later the preposition is only ever copied from where a passage has it.
    _write(c := SpanConstraint(PASSAGES, VOCAB), "Nadia Khoury")
    c.advance(VOCAB.token_of[" و".encode()], c.allowed())
    places = c.allowed()[lead]
    assert places and all(PASSAGES[i].encode()[s:e] == "في".encode() for i, s, e in places)
