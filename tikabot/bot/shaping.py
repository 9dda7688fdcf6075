"""Bengali and Devanagari labels for charts, shaped as a reader expects.

matplotlib lays text out one character at a time: it cannot form conjuncts (ক + ্ + ষ = ক্ষ) or
move a pre-base vowel sign before its consonant (কি shows ি first). Here HarfBuzz (uharfbuzz)
shapes the text with an OpenType font, fontTools reads the glyph outlines, and the label is
drawn as a filled path: the same glyphs a phone shows. A character the script font lacks (Latin
letters of a site code) falls back to matplotlib's own DejaVu Sans, shaped the same way.

The fonts ship inside the package (bot/fonts/: Lohit Bengali and Lohit Devanagari, SIL OFL 1.1,
licence in bot/fonts/OFL.txt), so a fresh machine draws Bengali and Hindi labels after `./run`
alone; they are found first. A system font (Debian's fonts-lohit-*, Noto) is used only when the
packaged one is gone. `font_for(lang)` is None where no font or HarfBuzz is there; callers then
label in English.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.colors import to_rgba
from matplotlib.path import Path as MplPath
from matplotlib.transforms import Affine2D

try:  # an optional wheel: without it charts are labelled in English
    import uharfbuzz as hb
except ImportError:  # pragma: no cover - exercised on a machine without it
    hb = None

from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont

FONT_DIR = Path(__file__).parent / "fonts"
PACKAGED = {"bn": FONT_DIR / "Lohit-Bengali.ttf", "hi": FONT_DIR / "Lohit-Devanagari.ttf"}
CANDIDATES = {  # system fonts, after the packaged one
    "bn": ("/usr/share/fonts/truetype/lohit-bengali/Lohit-Bengali.ttf",
           "/usr/share/fonts/truetype/noto/NotoSansBengali-Regular.ttf",
           "/usr/share/fonts/truetype/fonts-beng-extra/MuktiNarrow.ttf"),
    "hi": ("/usr/share/fonts/truetype/lohit-devanagari/Lohit-Devanagari.ttf",
           "/usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf"),
}
FAMILIES = {"bn": ("Lohit Bengali", "Noto Sans Bengali"), "hi": ("Lohit Devanagari", "Noto Sans Devanagari")}


def _find(lang: str) -> str | None:
    for path in (PACKAGED.get(lang), *CANDIDATES.get(lang, ())):
        if path is not None and Path(path).is_file():
            return str(path)
    for family in FAMILIES.get(lang, ()):
        try:
            return font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            continue
    return None


@dataclass
class Font:
    """One OpenType font: HarfBuzz's view for shaping, fontTools' for outlines."""
    path: str

    def __post_init__(self):
        self.tt = TTFont(self.path, lazy=True)
        self.glyphs = self.tt.getGlyphSet()
        self.cmap = self.tt.getBestCmap()
        self.upem = self.tt["head"].unitsPerEm
        self.hb_font = hb.Font(hb.Face(hb.Blob.from_file_path(self.path)))

    def has(self, char: str) -> bool:
        return ord(char) in self.cmap or char.isspace() and 0x20 in self.cmap

    def shape(self, text: str) -> list[tuple[int, int, int, int, int]]:
        """(glyph id, cluster, x advance, x offset, y offset) per glyph, in font units."""
        buf = hb.Buffer()
        buf.add_str(text)
        buf.guess_segment_properties()
        hb.shape(self.hb_font, buf, {})
        return [(info.codepoint, info.cluster, pos.x_advance, pos.x_offset, pos.y_offset)
                for info, pos in zip(buf.glyph_infos, buf.glyph_positions)]


@lru_cache(maxsize=8)
def _font(path: str) -> Font:
    return Font(path)


@lru_cache(maxsize=4)
def font_for(lang: str) -> Font | None:
    """The shaping font for a language's labels, or None (English labels then)."""
    if hb is None or lang not in PACKAGED:
        return None
    path = _find(lang)
    return _font(path) if path else None


def fallback_font() -> Font | None:
    return _font(font_manager.findfont("DejaVu Sans")) if hb is not None else None


class _PathPen(BasePen):
    """Glyph outlines into matplotlib path vertices and codes, offset and scaled to one em = 1."""

    def __init__(self, glyph_set, dx: float, dy: float, scale: float):
        super().__init__(glyph_set)
        self.vertices: list[tuple[float, float]] = []
        self.codes: list[int] = []
        self.dx, self.dy, self.scale = dx, dy, scale

    def _p(self, pt):
        return ((pt[0] + self.dx) * self.scale, (pt[1] + self.dy) * self.scale)

    def _moveTo(self, pt):
        self.vertices.append(self._p(pt))
        self.codes.append(MplPath.MOVETO)

    def _lineTo(self, pt):
        self.vertices.append(self._p(pt))
        self.codes.append(MplPath.LINETO)

    def _qCurveToOne(self, pt1, pt2):
        self.vertices += [self._p(pt1), self._p(pt2)]
        self.codes += [MplPath.CURVE3, MplPath.CURVE3]

    def _curveToOne(self, pt1, pt2, pt3):
        self.vertices += [self._p(pt1), self._p(pt2), self._p(pt3)]
        self.codes += [MplPath.CURVE4] * 3

    def _closePath(self):
        self.vertices.append((0.0, 0.0))
        self.codes.append(MplPath.CLOSEPOLY)


def runs(text: str, main: Font, fallback: Font | None) -> list[tuple[str, Font]]:
    """Split text where the main font lacks a character (a combining sign stays with its base)."""
    out: list[tuple[str, Font]] = []
    for char in text:
        font = main if main.has(char) or fallback is None or not fallback.has(char) else fallback
        if out and (out[-1][1] is font or char.isspace()):
            out[-1] = (out[-1][0] + char, out[-1][1])
        else:
            out.append((char, font))
    return out


@dataclass(frozen=True)
class Shaped:
    path: MplPath  # one em = 1 unit, baseline at y = 0
    width: float  # in ems
    glyphs: tuple[tuple[str, int], ...]  # (font path, glyph id) in visual order


def shape_text(text: str, font: Font, fallback: Font | None = None) -> Shaped:
    fallback = fallback if fallback is not None else fallback_font()
    vertices: list = []
    codes: list = []
    glyphs = []
    x = 0.0
    for chunk, run_font in runs(text, font, fallback):
        scale = 1.0 / run_font.upem
        for gid, _cluster, advance, x_off, y_off in run_font.shape(chunk):
            name = run_font.tt.getGlyphName(gid)
            pen = _PathPen(run_font.glyphs, x / scale + x_off, y_off, scale)
            run_font.glyphs[name].draw(pen)
            vertices += pen.vertices
            codes += pen.codes
            glyphs.append((run_font.path, gid))
            x += advance * scale
    path = MplPath(vertices, codes) if vertices else MplPath([(0, 0)], [MplPath.MOVETO])
    return Shaped(path, x, tuple(glyphs))


class ShapedText(Artist):
    """A label drawn from shaped glyphs. xy in `transform`'s coordinates; size in points;
    ha: left | center | right; the baseline sits at xy (va="baseline") or its middle (va="center")."""

    def __init__(self, xy, text: str, font: Font, *, transform, size: float = 10, color="black", ha="left",
                 va="baseline"):
        super().__init__()
        self.xy, self.text, self.font, self.size, self.color, self.ha, self.va = xy, text, font, size, color, ha, va
        self.anchor = transform
        self.shaped = shape_text(text, font)

    def draw(self, renderer):
        if not self.get_visible():
            return
        x, y = self.anchor.transform(self.xy)
        scale = renderer.points_to_pixels(self.size)
        x -= {"left": 0.0, "center": 0.5, "right": 1.0}[self.ha] * self.shaped.width * scale
        if self.va == "center":
            y -= 0.35 * scale
        gc = renderer.new_gc()
        gc.set_linewidth(0)
        gc.set_foreground(self.color)
        renderer.draw_path(gc, self.shaped.path, Affine2D().scale(scale).translate(x, y),
                           rgbFace=to_rgba(self.color))
        gc.restore()
