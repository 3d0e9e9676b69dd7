from rag.answer.citations import claims_citing, clean_citations


def test_valid_markers_kept_and_listed_in_order():
    text, cited = clean_citations("Tokayev is president [2]. He spoke in Moscow [1][2].", 3)
    assert text == "Tokayev is president [2]. He spoke in Moscow [1][2]."
    assert cited == [2, 1]


def test_markers_out_of_range_are_removed_with_their_space():
    text, cited = clean_citations("Answer [7]. Other [0] fact [1].", 3)
    assert text == "Answer. Other fact [1]."
    assert cited == [1]


def test_lists_arabic_digits_and_comma_forms_are_normalized():
    text, cited = clean_citations("الجواب [١، ٣] و [2, 9]", 3)
    assert text == "الجواب [1][3] و [2]"
    assert cited == [1, 3, 2]


def test_no_markers():
    assert clean_citations("No citation here.", 2) == ("No citation here.", [])


def test_claims_citing_finds_the_sentences_that_cite_a_passage():
    answer = "A fact [1]. Another fact [2]. A third [1][2]."
    assert claims_citing(answer, 1) == ["A fact.", "A third."]
    assert claims_citing(answer, 3) == []


def test_add_marker_goes_before_the_final_full_stop():
    from rag.answer.citations import add_marker

    assert add_marker("Tokayev is president.", 2) == "Tokayev is president [2]."
    assert add_marker("في عام 2020", 1) == "في عام 2020 [1]"
