import pytest

from tikabot.i18n.encoding import encoding_of, segments, sms_info

BN = "আপনার টিকা আগামীকাল"  # Bengali
HI = "आपका टीका कल है"  # Hindi


@pytest.mark.parametrize(
    "text, encoding, segs",
    [
        ("", "GSM-7", 1),
        ("Your vaccination is tomorrow at 09:00.", "GSM-7", 1),
        ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", "GSM-7", 1),
        ("line one\nline two\r", "GSM-7", 1),
        ("Use {braces} [and] ~pipes| ^ \\ €", "GSM-7", 1),
        ("Don\u2019t forget", "UCS-2", 1),  # curly apostrophe
        ("\u201cquoted\u201d", "UCS-2", 1),
        ("9\u201311 am", "UCS-2", 1),  # en dash
        ("wait\u2026", "UCS-2", 1),  # ellipsis
        ("`tick`", "UCS-2", 1),  # backtick is not GSM
        ("₹100", "UCS-2", 1),
        ("ç", "UCS-2", 1),  # only capital Ç is in GSM 03.38
        (BN, "UCS-2", 1),
        (HI, "UCS-2", 1),
        ("OK 👍", "UCS-2", 1),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("a" * 459, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # 160 septets
        ("€" * 81, "GSM-7", 2),  # 162 septets
        ("a" * 159 + "€", "GSM-7", 2),  # 161 septets
        ("a" * 152 + "[" + "a" * 8, "GSM-7", 2),  # escape pair not split: 152 | 2 + 8
        ("a" * 152 + "[" + "a" * 151, "GSM-7", 2),  # 152 | 2 + 151
        ("a" * 152 + "[" + "a" * 152, "GSM-7", 3),  # 152 | 2 + 151 | 1
        ("অ" * 70, "UCS-2", 1),
        ("অ" * 71, "UCS-2", 2),
        ("अ" * 134, "UCS-2", 2),
        ("अ" * 135, "UCS-2", 3),
        ("a" * 69 + "অ", "UCS-2", 1),
        ("a" * 70 + "অ", "UCS-2", 2),
        ("👍" * 35, "UCS-2", 1),  # 70 UTF-16 units
        ("👍" * 36, "UCS-2", 2),  # 72 units
        ("a" * 66 + "👍" + "a", "UCS-2", 1),  # 69 units
        ("a" * 66 + "👍" + "a" * 66, "UCS-2", 3),  # pair not split: 66 | 2 + 65 | 1
        ("a" + "👍" * 34 + "a", "UCS-2", 1),  # 70 units
    ],
)
def test_encoding_and_segments(text, encoding, segs):
    assert encoding_of(text) == encoding
    assert segments(text) == segs


def test_sms_info_units():
    assert sms_info("a" * 10 + "€").units == 12
    assert sms_info("👍").units == 2
    info = sms_info("ক্ষ")  # conjunct: three code points
    assert (info.encoding, info.segments, info.units) == ("UCS-2", 1, 3)


def test_escape_pair_at_part_boundary_moves_to_next_part():
    # 152 plain + an extension char: the pair cannot sit across parts.
    text = "a" * 152 + "{" + "a" * 152
    assert sms_info(text).units == 306
    assert segments(text) == 3  # naive ceil(306/153) would say 2
