"""Reading a data table (step 1 of the pipeline): a CSV file in any common dialect, compressed
or not, or a Parquet file.

Detected, with a note: the separator (, ; tab |), decimal commas, compression (.gz .bz2 .xz
.zip), UTF-16 and non-UTF-8 text (read as cp1252, the Windows / Excel default, unless
--encoding names the encoding), spaces after the separators of the header. Refused in one line:
spreadsheets and other files that are not tables, duplicate column names, files without rows.
Missing values: in target columns only empty cells (--missing-target adds values such as NA),
elsewhere also NA, N/A, NaN, null, None, ? and the rest of pandas' usual list.
"""

import bz2
import codecs
import csv
import gzip
import hashlib
import lzma
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from utils import DataError

MISSING = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND"]
MISSING += ["1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null", "?"]
SPREADSHEETS = {".xlsx", ".xlsm", ".xls", ".ods", ".numbers"}


def read_table(
    path: Path, targets: Sequence[str] = (), missing: Sequence[str] = (), encoding: str = "auto"
) -> pd.DataFrame:
    """The table in `path`, indexed by line number (the header is line 1; Parquet rows count
    from 1). `targets` are the target columns: `missing` lists the values that mean missing in
    them, besides empty cells."""
    if path.is_dir():
        raise DataError(f"{path} is a folder: give a CSV or Parquet file")
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    with path.open("rb") as f:
        start = f.read(8)
    if path.suffix.lower() in SPREADSHEETS or (start[:2] == b"PK" and path.suffix != ".zip"):
        raise DataError(
            f"{path} is a spreadsheet or an archive (an Excel workbook?), not a table: save it as "
            "CSV (in Excel: File > Save As > CSV UTF-8) or Parquet"
        )
    try:
        if start[:4] == b"PAR1" or path.suffix.lower() in {".parquet", ".pq"}:
            frame = pd.read_parquet(path)
            frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
        else:
            frame = read_csv(path, targets, missing, encoding)
            frame.index = pd.RangeIndex(2, len(frame) + 2, name="line")
    except ImportError as e:
        raise DataError(f"{path}: reading Parquet needs pyarrow ({e})") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise DataError(f"{path}: cannot read it as a table ({e})") from None
    if frame.empty:
        raise DataError(f"{path}: no data rows, only a header")
    return frame


def read_csv(
    path: Path, targets: Sequence[str], missing: Sequence[str], encoding: str
) -> pd.DataFrame:
    """A CSV file in the dialect and encoding it uses (see above)."""
    chosen = encoding if encoding != "auto" else text_encoding(path)
    try:
        frame, options = read_csv_as(path, targets, missing, chosen)
    except UnicodeDecodeError:
        where = bad_byte(path, chosen)
        if encoding != "auto" or chosen != "utf-8-sig":
            hint = "pass the file's encoding with --encoding, e.g. --encoding cp1252"
            raise DataError(f"{path}: not {chosen} text ({where}): {hint}") from None
        print(f"note: {path} is not UTF-8 ({where}): reading it as cp1252 (Windows, Excel)")
        try:
            frame, options = read_csv_as(path, targets, missing, "cp1252")
        except UnicodeDecodeError:
            where = bad_byte(path, "cp1252")
            hint = "pass the file's encoding with --encoding"
            raise DataError(f"{path}: neither UTF-8 nor cp1252 text ({where}): {hint}") from None
    if options["sep"] != ",":
        how = " with decimal commas" if "decimal" in options else ""
        print(f"note: {path}: reading {options['sep']!r}-separated values{how}")
    return frame


def read_csv_as(
    path: Path, targets: Sequence[str], missing: Sequence[str], encoding: str
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The table, and the pandas options that read it. Columns of decimals are float32 (half
    the memory of float64), except the targets."""
    with open_bytes(path) as f:
        lines = f.read(1 << 16).decode(encoding, errors="replace").splitlines()
    header, first_row = [*lines, "", ""][:2]
    separator = max([",", ";", "\t", "|"], key=header.count)
    options: dict[str, Any] = {"sep": separator if separator in header else ","}
    # Semicolon-separated files often write decimals with a comma: 1,5 for 1.5.
    if options["sep"] == ";" and re.search(r"(^|;)\s*-?\d+,\d+\s*(;|$)", first_row):
        options["decimal"] = ","
    names = [n.strip() for n in next(csv.reader([header], delimiter=options["sep"]), [])]
    for name in names:
        if names.count(name) > 1:
            times = names.count(name)
            raise DataError(f"{path}: column '{name}' appears {times} times: rename all but one")
    options |= {"encoding": encoding, "skipinitialspace": True, "keep_default_na": False}
    columns = pd.read_csv(path, nrows=0, **options).columns
    options["na_values"] = {c: ["", *missing] if c.strip() in targets else MISSING for c in columns}
    head = pd.read_csv(path, nrows=1000, **options)
    decimals = [c for c in head if head[c].dtype == np.float64 and c.strip() not in targets]
    try:
        frame = pd.read_csv(path, dtype=dict.fromkeys(decimals, np.float32), **options)
    except UnicodeDecodeError:
        raise
    except ValueError:  # text further down a column of numbers: read it as it is
        frame = pd.read_csv(path, **options)
    return frame.rename(columns=str.strip), options


def open_bytes(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed as pandas does (.gz, .bz2, .xz, or a .zip of one file)."""
    suffix = path.suffix.lower()
    if suffix == ".zip":
        archive = zipfile.ZipFile(path)
        return archive.open(archive.namelist()[0])
    opener = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}.get(suffix, open)
    return opener(path, "rb")


def text_encoding(path: Path) -> str:
    """UTF-16 when the file starts with its byte-order mark, else UTF-8 (with or without one)."""
    with open_bytes(path) as f:
        start = f.read(2)
    return "utf-16" if start in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"


def bad_byte(path: Path, encoding: str) -> str:
    """Where the first byte that `encoding` cannot decode is: 'line 12, byte 0xe9'."""
    with open_bytes(path) as f:
        data = f.read()
    try:
        data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return f"line {line}, byte 0x{data[e.start]:02x}"
    return "a byte it cannot decode"


def fingerprint(path: Path) -> str:
    """SHA-256 of a data file, or of the names and sizes of the files in a data folder: any
    re-ordered, added, removed or edited row changes it."""
    digest = hashlib.sha256()
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(f"{file.relative_to(path)} {file.stat().st_size}\n".encode())
    else:
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()
