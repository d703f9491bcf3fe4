"""Segment counting against the GSM-7 / UCS-2 rules in DOMAIN.md, at every boundary."""

import pytest

from alerts.segments import GSM7_EXTENSION, count_segments, encoding_of, split_segments


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("中" * 70, "UCS-2", 70, 1),
        ("中" * 71, "UCS-2", 71, 2),
        ("中" * 134, "UCS-2", 134, 2),
        ("中" * 135, "UCS-2", 135, 3),
        ("中" * 536, "UCS-2", 536, 8),
        ("中" * 537, "UCS-2", 537, 9),
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 81, "GSM-7", 162, 2),
        ("😀" * 35, "UCS-2", 70, 1),
        ("😀" * 36, "UCS-2", 72, 2),
        ("", "GSM-7", 0, 0),
    ],
)
def test_boundaries(text, encoding, units, segments):
    got = count_segments(text)
    assert (got.encoding, got.units, got.segments) == (encoding, units, segments)


@pytest.mark.parametrize("ch", list("€[]{}~^|\\"))
def test_each_extension_character_costs_two_septets(ch):
    assert encoding_of(ch) == "GSM-7"
    assert count_segments("a" * 158 + ch).segments == 1  # 158 + 2 = 160
    assert count_segments("a" * 159 + ch).segments == 2  # 159 + 2 = 161


@pytest.mark.parametrize("ch", sorted(GSM7_EXTENSION))
def test_extension_escape_is_never_split(ch):
    text = "a" * 152 + ch + "b" * 10  # the escape would land on septet 153, the char on 154
    parts = split_segments(text)
    assert parts[0] == "a" * 152 and parts[1].startswith(ch)
    assert count_segments(text).segments == 2


def test_surrogate_pair_is_never_split():
    text = "中" * 66 + "😀" + "中" * 10  # the pair would straddle code units 67/68
    parts = split_segments(text)
    assert parts[0] == "中" * 66 and parts[1].startswith("😀")
    assert "".join(parts) == text


def test_one_non_gsm_character_switches_everything_to_ucs2():
    assert count_segments("Fire drill at 10:00 today" + "é").encoding == "GSM-7"
    mixed = "Fire drill " + "a" * 60 + " 火"
    got = count_segments(mixed)
    assert got.encoding == "UCS-2" and got.units == len(mixed) and got.segments == 2


def test_mixed_chinese_latin_emoji():
    text = "【演练】School ABC 消防演练 🚒 10:00"
    got = count_segments(text)
    assert got.encoding == "UCS-2" and got.units == len(text) + 1 and got.segments == 1


def test_gsm_characters_that_look_ascii_but_are_not():
    assert encoding_of("`") == "UCS-2"  # backtick is not in GSM-7
    assert encoding_of("£¥§¿¡ÄÖÑÜ") == "GSM-7"


def test_parts_obey_per_segment_limits():
    text = ("€a" * 200) + "x"
    parts = split_segments(text)
    assert all(count_segments(p).units <= 153 for p in parts)
    assert "".join(parts) == text
