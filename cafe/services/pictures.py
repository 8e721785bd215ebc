"""Menu pictures (uploaded, checked by their bytes, kept under the data folder with a random name)
and pictograms (Material Design Icons from an installed package, served by name, never copied)."""

from __future__ import annotations

import functools
import re
import secrets
from pathlib import Path

import material_design_icons_pack as mdi

from hub.config import Settings
from hub.errors import InvalidInput, NotFound

# What a picture's first bytes must be: the file is judged by its content, never by its name.
_SIGNATURES: tuple[tuple[str, str], ...] = (
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("webp", "image/webp"),
)
MEDIA_TYPES = {ext: media for ext, media in _SIGNATURES}
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg|webp)$")


def picture_kind(content: bytes) -> str | None:
    """``png``, ``jpg`` or ``webp`` from the file's own signature; None for anything else."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if len(content) >= 12 and content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "webp"
    return None


def pictures_dir(settings: Settings) -> Path:
    return settings.data_dir / "cafe"


def store_picture(settings: Settings, content: bytes) -> str:
    """Check and keep an uploaded picture; answer its stored name. Refuses (422, field
    ``picture``) an empty file, one over ``cafe_picture_max_bytes`` and anything that is not a
    PNG, JPEG or WebP image by its content."""
    if not content:
        raise InvalidInput("The picture is empty.", field="picture")
    if len(content) > settings.cafe_picture_max_bytes:
        limit_kib = settings.cafe_picture_max_bytes // 1024
        raise InvalidInput(f"The picture is larger than {limit_kib} KiB.", field="picture")
    kind = picture_kind(content)
    if kind is None:
        raise InvalidInput("That file is not a PNG, JPEG or WebP picture.", field="picture")
    folder = pictures_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{kind}"
    temporary = folder / f".{name}.part"
    temporary.write_bytes(content)
    temporary.replace(folder / name)
    return name


def picture_path(settings: Settings, stored_name: str | None) -> Path:
    if not stored_name or not _STORED_NAME.match(stored_name):
        raise NotFound("That product has no picture.")
    path = pictures_dir(settings) / stored_name
    if not path.is_file():
        raise NotFound("That product's picture is missing.")
    return path


# Words that mark an icon as food or drink, for the menu editor's choice of pictograms.
_FOOD_WORDS = (
    "coffee",
    "tea",
    "cup",
    "mug",
    "food",
    "cake",
    "cupcake",
    "muffin",
    "cookie",
    "bread",
    "baguette",
    "croissant",
    "bowl",
    "pot",
    "soup",
    "pizza",
    "hamburger",
    "sausage",
    "egg",
    "cheese",
    "fruit",
    "apple",
    "carrot",
    "ice-cream",
    "glass",
    "bottle",
    "kettle",
    "silverware",
    "baby",
    "candy",
    "pasta",
    "noodles",
    "rice",
    "taco",
    "fish",
    "leaf",
    "water",
    "heart",
)


@functools.cache
def pictogram_names() -> tuple[str, ...]:
    """The pictograms offered for the menu: the icon set's food and drink icons, by name."""
    names = []
    for constant in getattr(mdi, "__all__", ()):
        icon = getattr(mdi, constant, None)
        slug = getattr(icon, "slug", None)
        if not isinstance(slug, str) or getattr(icon, "deprecated", False):
            continue
        parts = slug.split("-")
        if any(word in parts or slug.startswith(word) for word in _FOOD_WORDS):
            names.append(slug)
    return tuple(sorted(names))


def pictogram_exists(name: str) -> bool:
    return mdi.get_icon(name) is not None


def pictogram_svg(name: str) -> str:
    icon = mdi.get_icon(name)
    if icon is None:
        raise NotFound("There is no pictogram of that name.")
    svg: str = icon.svg
    # The icons draw in currentColor's absence as black; let the page's text colour show through.
    return svg.replace("<svg ", '<svg fill="currentColor" role="img" ', 1)


def pictogram_url(name: str | None) -> str | None:
    return f"/api/v1/cafe/pictograms/{name}.svg" if name else None
