import pytest

from rag.text.language import answer_language, detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Who is Putin?", "en"),
        ("Why?", "en"),
        ("Who is the president of Kazakhstan?", "en"),
        ("من هو؟", "ar"),
        ("ما هو سعر النفط اليوم؟", "ar"),
        ("ما موقف Lukashenko من الحرب؟", "ar"),
        ("What did لوكاشينكو say about the war in Ukraine?", "en"),
        ("2020", "en"),
        ("١٢٣ 456 ?", "en"),
        ("Qui est le président du Kazakhstan et que pense-t-il de la Russie?", "fr"),
    ],
)
def test_detect_language(text, expected):
    assert detect_language(text) == expected


def test_digits_only_use_the_fallback():
    assert detect_language("2020", fallback="ar") == "ar"


def test_third_languages_are_answered_in_english():
    assert answer_language("fr") == "en"
    assert answer_language("ar") == "ar"
