"""Chat messages to prompt tokens, where only the chat template's own text can become
a control token.

Articles, questions and earlier answers are data. Tokenizing the rendered prompt as a
whole would turn ``<|im_start|>`` written inside an article into the real control
token, and the article could then speak as the system. So the template is rendered
with a placeholder for each message's content; the template's text is tokenized with
special tokens parsed, and each content with none, and any special token of the
vocabulary that still comes out of a content (some vocabularies match their
user-defined tokens in plain text too) is spelled out character by character.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from typing import Any

# Used when a GGUF carries no chat template.
CHATML_TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def special_token_ids(llama: Any) -> frozenset[int]:
    """Every token of the model's vocabulary that is not plain text: control, user-defined,
    unknown, or end of generation."""
    import llama_cpp

    vocab = llama._model.vocab
    mask = (
        llama_cpp.LLAMA_TOKEN_ATTR_CONTROL
        | llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED
        | llama_cpp.LLAMA_TOKEN_ATTR_UNKNOWN
    )
    return frozenset(
        token
        for token in range(llama_cpp.llama_vocab_n_tokens(vocab))
        if llama_cpp.llama_vocab_get_attr(vocab, token) & mask
        or llama_cpp.llama_vocab_is_eog(vocab, token)
    )


class PromptEncoder:
    """Renders chat messages with the model's template into tokens, content kept as data."""

    def __init__(self, llama: Any) -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.llama = llama
        model = llama._model
        eos, bos = llama.token_eos(), llama.token_bos()
        self.eos_text = model.token_get_text(eos) if eos != -1 else ""
        bos_text = model.token_get_text(bos) if bos != -1 else ""
        template = llama.metadata.get("tokenizer.chat_template") or CHATML_TEMPLATE
        self.formatter = Jinja2ChatFormatter(template, eos_token=self.eos_text, bos_token=bos_text)
        self.special = special_token_ids(llama)

    def text_tokens(self, text: str) -> list[int]:
        """Tokens of ``text`` as data: every special token it spells is left out."""
        tokens = self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        return [token for token in tokens if token not in self.special]

    def encode(self, messages: Sequence[dict[str, str]]) -> list[int]:
        """The prompt for ``messages``, ending where the assistant's reply begins."""
        nonce = secrets.token_hex(8)
        placeholders = [
            {"role": m["role"], "content": f"@@{nonce}-{i}@@"} for i, m in enumerate(messages)
        ]
        rendered = self.formatter(messages=placeholders).prompt
        tokens: list[int] = []
        for i, part in enumerate(re.split(rf"@@{nonce}-(\d+)@@", rendered)):
            if i % 2:
                tokens += self.text_tokens(messages[int(part)]["content"])
            elif part:
                tokens += self.llama.tokenize(part.encode("utf-8"), add_bos=False, special=True)
        return tokens
