"""Opening a table: a Parquet file or folder, CSV, JSON Lines, Arrow IPC, or a Delta table (delta-rs).

Every source streams record batches in a stable order (files by path, rows as stored),
so a row number means the same row in every run: memory is bounded by the batch size,
not the table. Unreadable tables raise `SourceError` with one line saying what and where.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from schemakit._exceptions import SourceError, SourceNotFound

__all__ = ["DEFAULT_BATCH_ROWS", "TableSource", "open_table", "table_format"]

#: Rows per record batch: memory is bounded by this many rows of the table's widest columns.
DEFAULT_BATCH_ROWS = 128 * 1024

_SUFFIXES: Mapping[str, str] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
    ".arrow": "ipc",
    ".ipc": "ipc",
    ".feather": "ipc",
}


def table_format(path: Path) -> str:
    """parquet, csv, json (JSON Lines), ipc or delta, from the path; SourceError for anything else."""
    if path.is_dir():
        if (path / "_delta_log").is_dir():
            return "delta"
        kinds = {_SUFFIXES.get(p.suffix.lower()) for p in _data_files(path)}
        kinds.discard(None)
        if len(kinds) == 1:
            return str(kinds.pop())
        if not kinds:
            raise SourceError(f"{path}: a folder without Parquet, CSV, JSON Lines or Arrow files")
        raise SourceError(f"{path}: a folder of several table formats ({', '.join(sorted(str(k) for k in kinds))})")
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise SourceError(
            f"{path}: not a table schemakit reads (.parquet, .csv, .jsonl, .arrow/.feather, or a Parquet or Delta folder)"
        )
    return kind


def _data_files(folder: Path) -> list[Path]:
    files: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        files.extend(Path(root) / n for n in sorted(names) if not n.startswith((".", "_")))
    return sorted(files)


def _read_error(where: str, exc: BaseException) -> SourceError:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return SourceError(f"{where}: cannot read the table: {text[:300]}")


@dataclass
class TableSource:
    """A table to stream: its Arrow schema and its record batches, in a stable order."""

    path: str
    format: str
    schema: Any
    #: Text types forced for columns that must reach the checks as text (CSV, JSON Lines).
    text_columns: Sequence[str] = ()
    num_rows: int | None = None
    _dataset: Any = field(default=None, repr=False)

    def batches(self, batch_rows: int = DEFAULT_BATCH_ROWS, columns: Sequence[str] | None = None) -> Iterator[Any]:
        """Record batches in table order; `columns` (names, each at most once) projects them."""
        try:
            yield from self._batches(batch_rows, columns)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise _read_error(self.path, exc) from None

    def _batches(self, batch_rows: int, columns: Sequence[str] | None) -> Iterator[Any]:
        if self._dataset is not None:
            for fragment in self._dataset.get_fragments():
                yield from fragment.to_batches(
                    columns=list(columns) if columns is not None else None, batch_size=batch_rows
                )
            return
        if self.format == "parquet":
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(self.path)
            yield from parquet.iter_batches(
                batch_size=batch_rows, columns=list(columns) if columns is not None else None
            )
        elif self.format == "csv":
            yield from _select(_csv_reader(Path(self.path), self.text_columns, batch_rows), columns)
        elif self.format == "json":
            yield from _select(_json_reader(Path(self.path), self.text_columns, batch_rows), columns)
        else:
            yield from _select(_ipc_batches(Path(self.path), batch_rows), columns)


def _select(batches: Iterator[Any], columns: Sequence[str] | None) -> Iterator[Any]:
    for batch in batches:
        yield batch if columns is None else batch.select(list(columns))


def _csv_reader(path: Path, text_columns: Sequence[str], batch_rows: int) -> Iterator[Any]:
    import pyarrow.csv as pcsv

    # Arrow would infer timestamps from ISO-8601 text (leniently): text columns stay text.
    # An empty cell is a null (as pandas writes one), "NaN" a float: Arrow's default reads NaN as null.
    convert = pcsv.ConvertOptions(
        column_types={name: pa.string() for name in text_columns},
        null_values=["", "NULL", "null", "NA", "N/A"],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    parse = pcsv.ParseOptions(delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
    reader = pcsv.open_csv(
        path, read_options=pcsv.ReadOptions(block_size=1 << 22), parse_options=parse, convert_options=convert
    )
    yield from _rebatch(reader, batch_rows)


def _json_reader(path: Path, text_columns: Sequence[str], batch_rows: int) -> Iterator[Any]:
    import pyarrow.json as pjson

    schema = pa.schema([pa.field(name, pa.string()) for name in text_columns])
    parse = pjson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    reader = pjson.open_json(path, read_options=pjson.ReadOptions(block_size=1 << 22), parse_options=parse)
    yield from _rebatch(reader, batch_rows)


def _rebatch(reader: Any, batch_rows: int) -> Iterator[Any]:
    for batch in reader:
        for start in range(0, len(batch), batch_rows):
            yield batch.slice(start, batch_rows)


def _ipc_batches(path: Path, batch_rows: int) -> Iterator[Any]:
    with pa.memory_map(str(path)) as source:
        try:
            reader: Any = pa.ipc.open_file(source)
            batches: Iterator[Any] = (reader.get_batch(i) for i in range(reader.num_record_batches))
        except pa.ArrowInvalid:
            source.seek(0)
            batches = iter(pa.ipc.open_stream(source))
        for batch in batches:
            for start in range(0, len(batch), batch_rows):
                yield batch.slice(start, batch_rows)


def open_table(path: str | os.PathLike[str], *, text_columns: Sequence[str] = ()) -> TableSource:
    """Open a table for streaming; `text_columns` stay text in formats whose readers infer types."""
    where = os.fspath(path)
    location = Path(where)
    if not location.exists():
        raise SourceNotFound(f"{where}: no such file or folder")
    kind = table_format(location)
    try:
        return _open(where, location, kind, text_columns)
    except SourceError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _read_error(where, exc) from None
    except Exception as exc:  # deltalake raises its own exception types (TableNotFoundError, DeltaError, ...)
        raise _read_error(where, exc) from None


def _open(where: str, location: Path, kind: str, text_columns: Sequence[str]) -> TableSource:
    import pyarrow.dataset as ds

    if kind == "delta":
        from deltalake import DeltaTable

        dataset = DeltaTable(where).to_pyarrow_dataset()
        return TableSource(where, kind, dataset.schema, num_rows=None, _dataset=dataset)
    if kind == "parquet" and location.is_file():
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(where)
        return TableSource(where, kind, parquet.schema_arrow, num_rows=parquet.metadata.num_rows)
    if kind == "parquet" or (kind == "ipc" and location.is_dir()):
        files = [str(p) for p in _data_files(location)] if location.is_dir() else [where]
        dataset = ds.dataset(files, format="parquet" if kind == "parquet" else "ipc")
        return TableSource(where, kind, dataset.schema, _dataset=dataset)
    if location.is_dir():
        raise SourceError(f"{where}: read a folder of {kind.upper()} files one file at a time")
    if kind == "json":
        # An explicit schema would add the text columns the file lacks, as nulls: keep those it has.
        head = next(iter(TableSource(where, kind, None)._batches(1024, None)), None)
        have = set(head.schema.names) if head is not None else set()
        text_columns = [name for name in text_columns if name in have]
    first = next(iter(TableSource(where, kind, None, text_columns)._batches(1024, None)), None)
    if first is None:
        raise SourceError(f"{where}: the file holds no table (not even a header)")
    return TableSource(where, kind, first.schema, text_columns)
