"""Inline citation markers: parse ``[n]``, drop the ones that point at no passage."""

from __future__ import annotations

import re

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")
# [1], [1, 2], [1،2], [١]; also 【1】 which small models sometimes emit.
_MARKER = re.compile(r"\s*[\[【]\s*([0-9٠-٩]+(?:\s*[,،]\s*[0-9٠-٩]+)*)\s*[\]】]")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,،؛;:!?؟])")


def clean_citations(answer: str, n_passages: int) -> tuple[str, list[int]]:
    """Normalize markers to ``[n]``, remove those outside 1..n_passages.

    Returns the cleaned answer and the cited passage numbers in order of first use.
    """
    cited: list[int] = []

    def replace(match: re.Match[str]) -> str:
        numbers = [int(x) for x in re.split(r"[,،]", match.group(1).translate(_DIGITS))]
        valid = [n for n in numbers if 1 <= n <= n_passages]
        for n in valid:
            if n not in cited:
                cited.append(n)
        if not valid:
            return ""
        after_marker = match.string[max(match.start() - 1, 0)] in "]】"
        return ("" if after_marker else " ") + "".join(f"[{n}]" for n in valid)

    cleaned = _MARKER.sub(replace, answer)
    cleaned = _SPACE_BEFORE_PUNCT.sub(r"\1", cleaned)
    return cleaned.strip(), cited


def claims_citing(answer: str, n: int) -> list[str]:
    """The sentences of a cleaned answer that cite passage ``n`` (markers removed)."""
    sentences = re.split(r"(?<=[.!?؟])\s+|\n+", answer)
    marker = f"[{n}]"
    return [strip_markers(s) for s in sentences if marker in s]


def strip_markers(text: str) -> str:
    """``text`` without its citation markers."""
    return _MARKER.sub("", text).strip()


def add_marker(answer: str, n: int) -> str:
    """Append ``[n]`` to an answer that cites nothing, before its final punctuation."""
    return add_markers(answer, [n])


def add_markers(answer: str, numbers: list[int]) -> str:
    """Append ``[n]`` for each of ``numbers``, before the answer's final punctuation."""
    markers = "".join(f"[{n}]" for n in numbers)
    stripped = answer.rstrip()
    if stripped and stripped[-1] in ".!?؟":
        return f"{stripped[:-1]} {markers}{stripped[-1]}"
    return f"{stripped} {markers}"
