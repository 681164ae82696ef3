"""Reading a vosk model's vocabulary: words.txt (big models) or Gr.fst's symbols (small ones)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.speech import IntentSet
from ivr.speech.vocabulary import VocabularyError, missing_words, read_model_vocabulary
from tests.speech.conftest import KOREAN_MODEL


def test_small_model_vocabulary_comes_from_the_grammar_fst(korean_intents: IntentSet) -> None:
    vocabulary = read_model_vocabulary(KOREAN_MODEL)
    assert len(vocabulary) > 100_000
    assert {"주차", "위반", "여권", "발급", "상담원", "주민등록증"} <= vocabulary
    assert "dowód" not in vocabulary
    assert missing_words(korean_intents, vocabulary) == []


def test_big_model_vocabulary_comes_from_words_txt(tmp_path: Path) -> None:
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "words.txt").write_text(
        "<eps> 0\ndowód 1\nosobisty 2\n", encoding="utf-8"
    )
    assert read_model_vocabulary(tmp_path) == {"<eps>", "dowód", "osobisty"}


def test_folder_that_is_no_model_is_named(tmp_path: Path) -> None:
    with pytest.raises(VocabularyError, match=r"neither graph/words\.txt nor graph/Gr\.fst"):
        read_model_vocabulary(tmp_path)


@pytest.mark.parametrize("content", [b"", b"\x00" * 64, b"\xd6\xfd\xb2\x7e\xff\xff\xff\x7f"])
def test_damaged_grammar_fst_is_named(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "Gr.fst").write_bytes(content)
    with pytest.raises(VocabularyError, match=r"Gr\.fst: cannot read its vocabulary"):
        read_model_vocabulary(tmp_path)
