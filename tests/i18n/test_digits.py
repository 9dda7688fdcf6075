import pytest

from tikabot.i18n.digits import ascii_digits


@pytest.mark.parametrize(
    "text, expected",
    [
        ("০১২৩৪৫৬৭৮৯", "0123456789"),
        ("०१२३४५६७८९", "0123456789"),
        ("DOSE১২৩৪-৫৬৭৮ 2", "DOSE1234-5678 2"),
        ("टीका १२३४५६७८ 1", "टीका 12345678 1"),
        ("mixed ১2३", "mixed 123"),
        ("no digits here", "no digits here"),
        ("", ""),
        ("٣", "٣"),  # Arabic-Indic digits are left alone
    ],
)
def test_ascii_digits(text, expected):
    assert ascii_digits(text) == expected
