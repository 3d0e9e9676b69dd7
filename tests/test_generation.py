"""The loop guard that cuts an answer which keeps repeating itself."""

import pytest

from rag.models.generation import loop_start

# Replies the default model gave to ARCD questions under greedy decoding.
LOOPS = [
    (
        "عمر البشير (عمر البشير) (عمر البشير) (عمر البشير) (عمر البشير) (عمر",
        "عمر البشير (عمر البشير)",
    ),
    ("الإصابة بالسؤال هي: الإصابة بالسؤال هي: الإصابة بالسؤال هي: الإصابة", "الإصابة بالسؤال هي:"),
    ("The answer is yes yes yes yes yes yes yes yes", "The answer is yes"),
]


def streamed_cut(text: str) -> int | None:
    """Where the pipeline stops: it checks the text after every character arrives."""
    for end in range(1, len(text) + 1):
        cut = loop_start(text[:end])
        if cut is not None:
            return cut
    return None


@pytest.mark.parametrize(("text", "kept"), LOOPS)
def test_a_loop_is_cut_after_its_first_occurrence(text: str, kept: str) -> None:
    cut = streamed_cut(text)
    assert cut is not None
    assert text[:cut].strip() == kept


@pytest.mark.parametrize(
    "text",
    [
        "فاز منتخب البرازيل بكأس العالم 5 مرات: 1958، 1962، 1970، 1994 و2002 [1].",
        "Next March, according to industry minister Sami al-Khoury (سامي الخوري) [1].",
        "هههه",
        "",
    ],
)
def test_an_answer_without_a_loop_is_left_alone(text: str) -> None:
    assert streamed_cut(text) is None


def test_a_cut_never_splits_a_word() -> None:
    text = "السلوفاكيا، الإيطاليا، والإيطاليا، والإيطاليا، والإيطاليا، والإ"
    cut = streamed_cut(text)
    assert cut is not None
    kept = text[:cut]
    assert kept.split()[-1].rstrip("،") in text.replace("،", " ").split()
