"""Reading image files (step 1 for images): the listing of a folder or a CSV, and decoding
each image to a uint8 tensor of one size and colour mode: turned upright as its EXIF
orientation says (phone photos), 16-bit grey images (microscopy, medical) scaled over their full
bit depth, and files beyond Pillow's size limit (decompression bombs) skipped like unreadable
ones."""

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from config import Config
from data_files import check_columns, drop_missing_targets
from tables import read_table
from utils import DataError, warn

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
SIXTEEN_BIT = {"I", "I;16", "I;16L", "I;16B", "I;16N"}  # 0..65535
BOMB = Image.DecompressionBombError  # more pixels than Pillow's limit (Image.MAX_IMAGE_PIXELS)
UNREADABLE = (UnidentifiedImageError, OSError, ValueError, SyntaxError, BOMB)


def list_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """The image files and the other files under `folder` (recursively, hidden ones left out),
    each in a fixed order."""
    found = [p.relative_to(folder) for p in folder.rglob("*") if p.is_file()]
    files = sorted(folder / p for p in found if not any(s.startswith(".") for s in p.parts))
    images = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES]
    return images, [p for p in files if p.suffix.lower() not in IMAGE_SUFFIXES]


def read_samples(path: Path, target: list[str], cfg: Config) -> tuple[pd.DataFrame, list[str]]:
    """Image paths and their targets, from a folder with one sub-folder per class (the
    sub-folder name is the class) or from a CSV with a `path` column (relative to the CSV's
    folder) and target column(s). Returns the table and its target column names."""
    if not path.exists():
        raise DataError(f"{path}: no such folder or file")
    if path.is_dir():
        strict, rows, others, empty = cfg.strict_data, [], [], []
        for folder in sorted(p for p in path.iterdir() if p.is_dir() and p.name[0] != "."):
            images, other = list_files(folder)
            rows += [(str(image), folder.name) for image in images]
            others += other
            if not images:
                empty.append(folder.name)
        if not rows:
            raise DataError(f"{path}: no images in class sub-folders (expected {path}/CLASS/IMAGE)")
        if others:
            warn(f"{path}: skipped {len(others)} file(s) that are not images", strict, others)
        if empty:
            warn(f"{path}: skipped class folder(s) with no images: {empty}", strict)
        frame = pd.DataFrame(rows, columns=["path", "class"])
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="image")
        return frame, ["class"]
    frame = read_table(path, target, cfg.missing_target, cfg.encoding)
    if not target:
        raise DataError("no target column: pass --target COLUMN (or set it in config.py)")
    check_columns(frame, ["path", *target], path)
    frame = drop_missing_targets(frame, target, path, cfg.missing_target)
    frame["path"] = [str(path.parent / p) for p in frame["path"].map(str)]
    return frame, target


class Decoder:
    """Decode image files to uint8 tensors of one size and colour mode."""

    def __init__(self, size: int, mode: str) -> None:
        self.size, self.mode = size, mode

    @classmethod
    def for_files(cls, paths: list[str], cfg: Config) -> "Decoder":
        """Size and colour mode from the config; mode "auto" is L when every image is grey."""
        mode = cfg.image_mode
        if mode == "auto":
            modes = {image_mode(p) for p in paths} - {None}  # unreadable files: see scan()
            mode = "L" if modes <= GREY_MODES else "RGB"
        return cls(cfg.image_size, mode)

    def decode(self, path: str) -> torch.Tensor:
        """(C, H, W) uint8, or a DataError naming the file."""
        try:
            with Image.open(path) as image:
                image = eight_bit(ImageOps.exif_transpose(image))  # upright, as displayed
                image = image.convert(self.mode).resize((self.size, self.size), Image.BILINEAR)
                array = np.asarray(image).reshape(self.size, self.size, -1)
        except FileNotFoundError:
            raise DataError(f"{path}: image file not found") from None
        except UNREADABLE as e:
            raise DataError(f"{path}: cannot read the image ({e})") from None
        return torch.from_numpy(array.copy()).permute(2, 0, 1)

    def scan(
        self, paths: list[str], keep: bool
    ) -> tuple[torch.Tensor | None, torch.Tensor, np.ndarray, list[str]]:
        """Decode every image once, before training. Returns the decoded images (when `keep`),
        per-image channel statistics (N, C, 2) for the normalization (preprocessing.py), a
        mask of the readable files and, for each unreadable one, its path and what is wrong."""
        shape = (len(paths), len(self.mode), self.size, self.size)
        images = torch.empty(shape, dtype=torch.uint8) if keep else None
        stats = torch.empty(len(paths), len(self.mode), 2, dtype=torch.float64)
        ok, problems = np.ones(len(paths), dtype=bool), []
        for i, p in enumerate(paths):
            try:
                image = self.decode(p)
            except DataError as e:
                ok[i] = False
                problems.append(str(e))
                continue
            pixels = image.flatten(1).double().div_(255)
            stats[i, :, 0], stats[i, :, 1] = pixels.mean(1), pixels.square().mean(1)
            if images is not None:
                images[i] = image
        mask = torch.from_numpy(ok)
        return (None if images is None else images[mask]), stats[mask], ok, problems


def image_mode(path: str) -> str | None:
    """The colour mode from the file header, without decoding the pixels (None if unreadable:
    the scan reports it)."""
    try:
        with Image.open(path) as image:
            return image.mode
    except UNREADABLE:
        return None


def eight_bit(image: Image.Image) -> Image.Image:
    """16-bit grey images scaled to 0..255 over their bit depth, and float ones over 0..1:
    convert() would clip them (a 16-bit image turns white)."""
    if image.mode not in SIXTEEN_BIT | {"F"}:
        return image
    scale = 255 / 65535 if image.mode in SIXTEEN_BIT else 255.0
    pixels = (np.asarray(image, dtype=np.float64) * scale).clip(0, 255).round()
    return Image.fromarray(pixels.astype(np.uint8))
