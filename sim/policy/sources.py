"""The source texts: where each quote of a policy file stands in the document it comes from.

Every policy file cites one document kept beside it in ``policies/sources/`` (file names
as collected, e.g. ``004_ef3e153d4278fd14.txt``) and quotes the sentences its numbers come
from.  The texts are printed unevenly: line breaks and spaces inside sentences, 萬/億 for
万/亿, full- and half-width punctuation mixed, and in file 001 traditional characters with
the pinyin of some of them in brackets (``產(chǎn)``).  A quote is compared with the text
after both are normalised the same way (:func:`normalise`); :func:`passage` then gives the
paragraph of the original text that holds it, so a reader sees a number in its clause.

Examples
--------
>>> text = SourceText("對PUE值低于1.2,符合條件的超算\\n給予0.12元/度的電費補貼。")
>>> text.contains("符合條件的超算、") , text.contains("符合條件的超算")
(False, True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from sim.errors import PolicyError

PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
SAME = {"萬": "万", "億": "亿", "“": '"', "”": '"', "，": ",", "(": "（", ")": "）"}
SOURCES_DIR = "sources"


def normalise(text: str) -> str:
    """Drop whitespace and the stray pinyin of file 001; unify 萬/億, quote marks, commas, brackets."""
    return SourceText(text).normal


@dataclass
class SourceText:
    """A document and its normalised form, with where each normalised character came from."""

    raw: str
    normal: str = field(init=False)
    origin: list[int] = field(init=False, repr=False)  # index in raw of each character of normal

    def __post_init__(self) -> None:
        dropped = {i for m in PINYIN.finditer(self.raw) for i in range(m.start(), m.end())}
        chars, origin = [], []
        for i, ch in enumerate(self.raw):
            if i in dropped or ch.isspace():
                continue
            chars.append(SAME.get(ch, ch))
            origin.append(i)
        self.normal = "".join(chars)
        self.origin = origin

    def contains(self, quote: str) -> bool:
        return normalise(quote) in self.normal

    def passage(self, quote: str) -> tuple[str, str, str] | None:
        """The paragraph holding ``quote`` as (before, quoted words, after), pinyin removed.

        ``None`` if the quote is not in the text.  A paragraph is a line of the document.
        """
        at = self.normal.find(normalise(quote))
        if at < 0 or not quote.strip():
            return None
        start = self.origin[at]
        end = self.origin[at + len(normalise(quote)) - 1] + 1
        line_start = self.raw.rfind("\n", 0, start) + 1
        line_end = self.raw.find("\n", end)
        line_end = len(self.raw) if line_end < 0 else line_end
        parts = (self.raw[line_start:start], self.raw[start:end], self.raw[end:line_end])
        before, words, after = (PINYIN.sub("", p) for p in parts)
        return before.lstrip(), words, after.rstrip()


def source_path(policy_file: str | Path, source: str) -> Path:
    """The file a policy's ``source:`` names, relative to the policy file's folder."""
    return Path(policy_file).parent / source


def read_source(policy_file: str | Path, source: str) -> SourceText:
    """The text a policy cites; a :class:`PolicyError` naming the file if it is not there."""
    path = source_path(policy_file, source)
    try:
        return SourceText(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError.one(
            str(policy_file), "source",
            f"cites {source}, but {path} does not exist; the texts live in policies/{SOURCES_DIR}/",
        ) from None
