"""Draw the Work-It app's GIFs (support/workit/gifs/*.gif) with Pillow: simple shapes, a theme word, a few frames.

The output is deterministic (no randomness, no clock, no network, Pillow's bundled default font), so running this
again gives the same files. Run from the repository root:

    python tools/make_gifs.py
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent.parent / "support" / "workit" / "gifs"
W, H = 160, 120
FRAMES = 6
FRAME_MS = 180

# One shared palette keeps every GIF small and its colours exact.
COLORS: dict[str, tuple[int, int, int]] = {
    "white": (255, 255, 255),
    "ink": (34, 34, 51),
    "cream": (250, 243, 224),
    "brown": (121, 72, 41),
    "tan": (196, 148, 98),
    "grey": (150, 150, 160),
    "light": (220, 224, 232),
    "sky": (110, 170, 230),
    "navy": (32, 48, 96),
    "blue": (40, 110, 210),
    "red": (220, 60, 60),
    "orange": (245, 150, 40),
    "yellow": (250, 210, 60),
    "green": (60, 170, 90),
    "purple": (140, 80, 200),
    "pink": (240, 130, 170),
    "black": (0, 0, 0),
    "dark": (24, 28, 36),
    "lime": (150, 230, 110),
    "paper": (245, 245, 250),
}
C = COLORS


def _palette_image() -> Image.Image:
    flat: list[int] = []
    for rgb in COLORS.values():
        flat.extend(rgb)
    flat.extend([0] * (768 - len(flat)))
    pal = Image.new("P", (1, 1))
    pal.putpalette(flat)
    return pal


PALETTE = _palette_image()


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)  # Pillow's bundled font (needs FreeType)
    except (TypeError, ImportError, OSError):
        return ImageFont.load_default()  # the bitmap font


FONT = _font(18)


def _word(draw: ImageDraw.ImageDraw, text: str, fill: tuple[int, int, int], y: int = 96) -> None:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=FONT)
    draw.text(((W - (right - left)) // 2 - left, y - top), text, font=FONT, fill=fill)


# --- one function per theme: frame index -> image ----------------------------------------------------------


def coffee(i: int) -> Image.Image:
    img = Image.new("RGB", (W, H), C["cream"])
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((50, 42, 100, 88), radius=8, fill=C["white"], outline=C["brown"], width=3)
    d.rectangle((54, 46, 96, 54), fill=C["brown"])
    d.arc((92, 52, 116, 76), start=-90, end=90, fill=C["brown"], width=4)
    for k in range(3):  # steam drifting up
        x = 60 + 14 * k
        y = 34 - ((i * 4 + k * 7) % 24)
        d.arc(
            (x, y, x + 10, y + 14), start=90 + 60 * ((i + k) % 2), end=270 + 60 * ((i + k) % 2), fill=C["grey"], width=2
        )
    _word(d, "coffee", C["brown"])
    return img


def cat(i: int) -> Image.Image:
    img = Image.new("RGB", (W, H), C["pink"])
    d = ImageDraw.Draw(img)
    d.polygon([(50, 40), (58, 12), (74, 32)], fill=C["orange"])
    d.polygon([(110, 40), (102, 12), (86, 32)], fill=C["orange"])
    d.ellipse((46, 22, 114, 86), fill=C["orange"])
    blink = i in (2, 3)
    for x in (64, 88):
        if blink:
            d.line((x, 48, x + 10, 48), fill=C["ink"], width=3)
        else:
            d.ellipse((x, 42, x + 10, 54), fill=C["ink"])
    d.polygon([(76, 60), (84, 60), (80, 65)], fill=C["red"])
    for s in (-1, 1):  # whiskers twitch
        for k in range(2):
            y = 62 + 5 * k + (i % 2)
            d.line((80 + s * 10, 64, 80 + s * 34, y), fill=C["ink"], width=1)
    _word(d, "cat", C["ink"])
    return img


def rain(i: int) -> Image.Image:
    img = Image.new("RGB", (W, H), C["light"])
    d = ImageDraw.Draw(img)
    for k in range(9):  # drops falling
        x = 30 + 12 * k
        y = 48 + ((i * 8 + k * 11) % 40)
        d.line((x, y, x - 3, y + 8), fill=C["blue"], width=2)
    for box in ((34, 18, 74, 50), (58, 8, 104, 48), (88, 20, 126, 50)):
        d.ellipse(box, fill=C["grey"])
    d.rectangle((52, 34, 110, 50), fill=C["grey"])
    _word(d, "rain", C["navy"])
    return img


def party(i: int) -> Image.Image:
    img = Image.new("RGB", (W, H), C["purple"])
    d = ImageDraw.Draw(img)
    confetti = ("yellow", "pink", "lime", "sky", "orange", "white")
    for k in range(18):
        x = (k * 37 + 11) % 150 + 5
        y = (k * 23 + i * 9) % 80 + 2
        d.rectangle((x, y, x + 4, y + 4), fill=C[confetti[(k + i) % len(confetti)]])
    d.polygon([(80, 20), (66, 70), (94, 70)], fill=C["yellow"])  # a party hat
    d.ellipse((74, 12, 86, 24), fill=C["pink"])
    for k in range(3):
        d.line((70 + 10 * k, 70, 66 + 10 * k + 8 * (i % 2), 84), fill=C["white"], width=2)
    _word(d, "party!", C["yellow"])
    return img


def sleep(i: int) -> Image.Image:
    img = Image.new("RGB", (W, H), C["navy"])
    d = ImageDraw.Draw(img)
    d.ellipse((18, 14, 50, 46), fill=C["yellow"])  # the moon
    d.ellipse((28, 8, 60, 40), fill=C["navy"])
    for k in range(3):  # z z z rising
        size = 6 + 3 * k
        x = 90 + 14 * k
        y = 70 - 16 * k - (i % 3) * 3
        if (i + k) % FRAMES < 5:
            d.line((x, y, x + size, y), fill=C["white"], width=2)
            d.line((x + size, y, x, y + size), fill=C["white"], width=2)
            d.line((x, y + size, x + size, y + size), fill=C["white"], width=2)
    for k in range(5):
        x, y = 20 + 30 * k, 60 + (k * 13) % 20
        if (i + k) % 2:
            d.point([(x, y), (x + 1, y), (x, y + 1)], fill=C["white"])
    _word(d, "sleepy", C["sky"])
    return img


def code(i: int) -> Image.Image:
    img = Image.new("RGB", (W, H), C["light"])
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((28, 10, 132, 78), radius=6, fill=C["dark"], outline=C["grey"], width=3)
    d.rectangle((70, 78, 90, 86), fill=C["grey"])
    lines = ((6, "lime"), (10, "sky"), (4, "orange"), (8, "lime"))
    shown = min(len(lines), i + 1)
    for k in range(shown):
        length, color = lines[k]
        indent = 8 if k in (1, 2) else 0
        d.rectangle((38 + indent, 20 + 12 * k, 38 + indent + 7 * length, 25 + 12 * k), fill=C[color])
    if i % 2 == 0:  # a blinking cursor: on the next line, then after the last one
        row = min(shown, len(lines) - 1)
        x = 38 if shown < len(lines) else 38 + 7 * lines[-1][0] + 4
        d.rectangle((x, 20 + 12 * row, x + 5, 27 + 12 * row), fill=C["white"])
    _word(d, "code", C["navy"])
    return img


def food(i: int) -> Image.Image:
    img = Image.new("RGB", (W, H), C["green"])
    d = ImageDraw.Draw(img)
    d.ellipse((38, 8, 122, 92), fill=C["tan"])  # a pizza, losing a slice per frame
    d.ellipse((46, 16, 114, 84), fill=C["orange"])
    for px, py in ((66, 30), (92, 36), (60, 58), (88, 64), (76, 46)):
        d.ellipse((px, py, px + 10, py + 10), fill=C["red"])
    eaten = i % FRAMES
    if eaten:
        d.pieslice((34, 4, 126, 96), start=-90, end=-90 + 60 * eaten, fill=C["green"])
    _word(d, "food", C["cream"])
    return img


def thinking(i: int) -> Image.Image:
    img = Image.new("RGB", (W, H), C["paper"])
    d = ImageDraw.Draw(img)
    d.ellipse((14, 52, 50, 88), fill=C["yellow"], outline=C["ink"], width=2)  # a face
    d.ellipse((24, 64, 28, 68), fill=C["ink"])
    d.ellipse((36, 64, 40, 68), fill=C["ink"])
    d.line((26, 78, 38, 76), fill=C["ink"], width=2)
    for x, y, r in ((54, 50, 3), (64, 40, 5)):
        d.ellipse((x - r, y - r, x + r, y + r), fill=C["white"], outline=C["ink"])
    d.ellipse((70, 6, 150, 46), fill=C["white"], outline=C["ink"], width=2)  # the bubble
    for k in range(3):  # dots appearing one by one
        if k <= i % 4 - 1 or i % 4 == 3:
            d.ellipse((90 + 14 * k, 22, 98 + 14 * k, 30), fill=C["purple"])
    _word(d, "thinking...", C["ink"])
    return img


THEMES: dict[str, Callable[[int], Image.Image]] = {
    "coffee": coffee,
    "cat": cat,
    "rain": rain,
    "party": party,
    "sleep": sleep,
    "code": code,
    "food": food,
    "thinking": thinking,
}


def render(name: str) -> list[Image.Image]:
    """The frames of one GIF, mapped onto the shared palette (no dithering: flat, exact colours)."""
    draw = THEMES[name]
    return [draw(i).quantize(palette=PALETTE, dither=Image.Dither.NONE) for i in range(FRAMES)]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in THEMES:
        frames = render(name)
        path = OUT / f"{name}.gif"
        frames[0].save(
            path, save_all=True, append_images=frames[1:], duration=FRAME_MS, loop=0, optimize=False, disposal=1
        )
        print(f"{path.relative_to(OUT.parent.parent)}  {path.stat().st_size:>6} bytes  {len(frames)} frames")


if __name__ == "__main__":
    main()
