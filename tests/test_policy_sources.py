"""The source texts in policies/sources/: quotes are found in them, and shown in their paragraph."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.errors import PolicyError
from sim.policy.load import load_policy
from sim.policy.sources import SourceText, normalise, read_source

ROOT = Path(__file__).resolve().parents[1]
POLICIES = sorted((ROOT / "policies").glob("*.yaml"))


def test_normalise_drops_whitespace_and_pinyin_and_unifies_forms():
    assert normalise("產(chǎn)業(yè) 2000萬元，\n“算力券”(含)") == '產業2000万元,"算力券"（含）'


def test_passage_is_the_paragraph_around_the_quote_as_printed():
    text = SourceText("第一段。\n第五條??降低用電成本。對PUE值低於1.2,給予0.12元/度的電費補貼(tiē)。\n第六條")
    before, words, after = text.passage("對PUE值低於1.2, 給予0.12元/度")
    assert before == "第五條??降低用電成本。"
    assert words == "對PUE值低於1.2,給予0.12元/度"
    assert after == "的電費補貼。"  # the stray pinyin is not shown
    assert text.passage("不在文中") is None


def test_passage_maps_unified_characters_back_to_the_printed_ones():
    text = SourceText("給予最高1000萬元“算力券”獎勵")
    assert text.passage('最高1000万元"算力券"')[1] == "最高1000萬元“算力券”"


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.stem)
def test_every_program_quote_has_its_paragraph(path: Path):
    policy = load_policy(path)
    for pid, prog in policy.programs.items():
        passage = read_source(path, prog.source).passage(prog.quote)
        assert passage is not None, pid
        assert normalise(passage[1]) == normalise(prog.quote), pid


def test_a_missing_source_is_named(tmp_path: Path):
    copy = tmp_path / "binjiang.yaml"
    copy.write_text((ROOT / "policies" / "binjiang.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    policy = load_policy(copy)
    with pytest.raises(PolicyError) as err:
        read_source(copy, policy.source)
    assert "binjiang.yaml: source: cites sources/004_ef3e153d4278fd14.txt" in str(err.value)
