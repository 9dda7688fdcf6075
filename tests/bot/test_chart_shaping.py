"""Charts against plan, and Bengali labels shaped as a Bengali reader expects (HarfBuzz glyphs, not
matplotlib's one-character-at-a-time layout, which breaks conjuncts and misplaces vowel signs)."""
from __future__ import annotations

import io
from datetime import date, time, timedelta

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from tikabot.bot import shaping
from tikabot.bot.charts import PNG_SIGNATURE, SiteSeries, day_summary_chart, plan_chart
from tikabot.core.clock import local_at

DAY, TZ = date(2026, 3, 2), "Asia/Kolkata"
BENGALI = shaping.font_for("bn")
needs_bengali = pytest.mark.skipif(
    BENGALI is None, reason="no Bengali shaping here: uharfbuzz is missing or the packaged font "
                            "(tikabot/bot/fonts) was removed")


def at(hh, mm=0):
    return local_at(DAY, time(hh, mm), TZ)


def cmap_glyphs(font, text):
    """What a renderer without shaping draws: one glyph a character, in typed order."""
    return [font.tt.getGlyphID(font.tt.getBestCmap()[ord(c)]) for c in text]


@needs_bengali
def test_a_bengali_conjunct_is_one_glyph_and_a_pre_base_vowel_sign_comes_first():
    ksha = shaping.shape_text("ক্ষ", BENGALI)  # ka + virama + ssa: one conjunct, no visible virama
    assert len(ksha.glyphs) == 1
    assert ksha.glyphs[0][1] not in cmap_glyphs(BENGALI, "ক্ষ")
    ki = shaping.shape_text("কি", BENGALI)  # the i-sign is typed after ka but drawn before it
    assert [g for _, g in ki.glyphs] == cmap_glyphs(BENGALI, "িক")
    word = "স্বাস্থ্যকেন্দ্র"  # health centre: three conjuncts and a two-part vowel
    shaped = shaping.shape_text(word, BENGALI)
    assert len(shaped.glyphs) < len(word) - 4
    unshaped_width = sum(BENGALI.shape(c)[0][2] for c in word) / BENGALI.upem
    assert shaped.width < 0.8 * unshaped_width


def render_label(text, shaped=True):
    figure = Figure(figsize=(3, 0.6), dpi=100)
    if shaped:
        figure.add_artist(shaping.ShapedText((0.02, 0.3), text, BENGALI, transform=figure.transFigure, size=18))
    else:  # the same glyphs one character at a time, as matplotlib would lay them out
        x = 0.02
        for char in text:
            figure.add_artist(shaping.ShapedText((x, 0.3), char, BENGALI, transform=figure.transFigure, size=18))
            x += BENGALI.shape(char)[0][2] / BENGALI.upem * 18 / 72 / 3
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return imread(io.BytesIO(out.getvalue()), format="png")[..., :3].mean(axis=2)


@needs_bengali
def test_the_label_drawn_is_the_shaped_one():
    shaped, unshaped = render_label("কক্ষ"), render_label("কক্ষ", shaped=False)
    ink = lambda img: np.argwhere(img < 0.5)  # noqa: E731
    assert len(ink(shaped)) > 50
    assert ink(shaped)[:, 1].max() < ink(unshaped)[:, 1].max() - 10  # the conjunct is narrower than its parts


NAMES = {"en": ("Santipur SGH", "Madanpur PHC"), "bn": ("শান্তিপুর স্টেট জেনারেল হাসপাতাল", "মদনপুর প্রাথমিক স্বাস্থ্যকেন্দ্র"),
         "hi": ("शांतिपुर राज्य सामान्य अस्पताल", "मदनपुर प्राथमिक स्वास्थ्य केंद्र")}


def series(lang="en"):
    slots = ["09:00-11:00"] * 10 + ["11:00-13:00"] * 10
    first, second = NAMES[lang]
    return [SiteSeries("U03", first, [at(10, 10) + timedelta(minutes=15 * i) for i in range(7)], slots, 20, behind_by=8),
            SiteSeries("U06", second, [at(9, 10) + timedelta(minutes=9 * i) for i in range(18)], slots, 20)]


@pytest.mark.parametrize("lang", ["en", "bn", "hi"])
def test_charts_against_plan_and_the_day_summary_draw_in_every_language(lang):
    if lang != "en" and shaping.font_for(lang) is None:
        pytest.skip(f"no {lang} shaping here: uharfbuzz or the packaged font is missing")
    png = plan_chart(DAY, series(lang), at(12, 0), TZ, lang)
    assert png.startswith(PNG_SIGNATURE)
    pixels = imread(io.BytesIO(png), format="png")
    red = (pixels[..., 0] > 0.7) & (pixels[..., 1] < 0.3) & (pixels[..., 2] < 0.3)
    assert red.sum() > 200  # the site behind plan is drawn red
    assert day_summary_chart(DAY, series(lang), TZ, lang).startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("lang, script", [("bn", ("\u0980", "\u09ff")), ("hi", ("\u0900", "\u097f"))])
def test_charts_draw_indic_labels_with_the_packaged_font_alone(lang, script, monkeypatch):
    """A fresh machine has no Indic font of its own: the labels come from the font inside the package,
    every glyph a real one (no .notdef box), in the reader's script, not English."""
    monkeypatch.setattr(shaping, "CANDIDATES", {})  # no system font by path
    monkeypatch.setattr(shaping, "FAMILIES", {})  # nor by family through matplotlib
    shaping.font_for.cache_clear()
    drawn = []
    real_shape = shaping.shape_text

    def shape_text(text, font, fallback=None):
        shaped = real_shape(text, font, fallback)
        drawn.append((text, shaped))
        return shaped

    monkeypatch.setattr(shaping, "shape_text", shape_text)
    try:
        font = shaping.font_for(lang)
        assert font is not None and font.path == str(shaping.PACKAGED[lang])
        assert plan_chart(DAY, series(lang), at(12, 0), TZ, lang).startswith(PNG_SIGNATURE)
        assert day_summary_chart(DAY, series(lang), TZ, lang).startswith(PNG_SIGNATURE)
    finally:
        shaping.font_for.cache_clear()
    native = [text for text, _ in drawn if any(script[0] <= ch <= script[1] for ch in text)]
    assert len(native) >= 4, drawn  # titles, key and site names in the reader's script
    assert all(gid != 0 for _, shaped in drawn for _, gid in shaped.glyphs)  # no tofu
    assert {path for _, shaped in drawn for path, _ in shaped.glyphs
            if path != shaping.fallback_font().path} == {str(shaping.PACKAGED[lang])}


def test_the_packaged_fonts_carry_their_licence():
    licence = (shaping.FONT_DIR / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence
    assert all(path.is_file() for path in shaping.PACKAGED.values())
