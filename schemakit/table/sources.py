"""Opening a table: Parquet, CSV (gzip too), JSON Lines, Arrow IPC/Feather files, folders and globs of
them (Hive partitions are columns), a Delta table (delta-rs), or data in memory (`from_arrow`).

Every source streams record batches in a stable order (files by path, rows as stored),
so a row number means the same row in every run: memory is bounded by the batch size,
not the table (Parquet is read without pre-buffering whole files). Unreadable tables
raise `SourceError` with one line saying what and where; a remote URI says how to
check such a table instead.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from schemakit._exceptions import SourceError, SourceNotFound

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "TableSource",
    "from_arrow",
    "open_table",
    "parquet_file",
    "read_error",
    "table_format",
]

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
#: Compressed text tables: the codec is read from the last suffix, the format from the one before.
_COMPRESSED = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4"}
_REMOTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")
_GLOB = re.compile(r"[*?\[]")


def table_format(path: Path) -> str:
    """parquet, csv, json (JSON Lines), ipc or delta, from the path; SourceError for anything else."""
    if path.is_dir():
        if (path / "_delta_log").is_dir():
            return "delta"
        kinds = {_SUFFIXES.get(_suffix(p)) for p in _data_files(path)}
        kinds.discard(None)
        if len(kinds) == 1:
            return str(kinds.pop())
        if not kinds:
            raise SourceError(f"{path}: a folder without Parquet, CSV, JSON Lines or Arrow files")
        raise SourceError(f"{path}: a folder of several table formats ({', '.join(sorted(str(k) for k in kinds))})")
    kind = _SUFFIXES.get(_suffix(path))
    if kind is None:
        raise SourceError(
            f"{path}: not a table schemakit reads (.parquet, .csv, .jsonl, .arrow/.feather, or a Parquet or Delta folder)"
        )
    return kind


def _suffix(path: Path) -> str:
    """The table suffix, under a compression suffix (`t.csv.gz` is `.csv`)."""
    suffixes = [x.lower() for x in path.suffixes]
    if len(suffixes) >= 2 and suffixes[-1] in _COMPRESSED:
        return suffixes[-2]
    return suffixes[-1] if suffixes else ""


def _data_files(folder: Path) -> list[Path]:
    files: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for d in dirs:  # not walked (os.walk does not follow links), but never silently dropped either
            _confined(Path(root) / d, folder, "folder")
        files.extend(Path(root) / n for n in sorted(names) if not n.startswith((".", "_")))
    for file in files:
        _confined(file, folder, "folder")
    return sorted(files)


def _inside(path: Path, root: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))


def _confined(path: Path, root: Path, what: str) -> None:
    """A file the table lists must be inside the folder the user named: a table is untrusted, and a
    symbolic link (or a Delta log path) leading out of it would read a file the user never named."""
    if not _inside(path, root):
        raise SourceError(
            f"{path}: leads outside the {what} {root} (a symbolic link); schemakit reads only the table "
            "it is given: name the file it points to, or copy it in"
        )


def _glob_base(pattern: str) -> Path:
    """The part of a glob the user spelled out (no wildcards): every match must stay under it."""
    parts: list[str] = []
    for part in Path(pattern).parts:
        if _GLOB.search(part):
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def read_error(where: str, exc: BaseException) -> SourceError:
    text = " ".join(str(exc).split()) or type(exc).__name__
    hint = ""
    if "JSON parse error" in text:
        hint = " (JSON Lines are read: one object per line, as to_json(orient='records', lines=True) writes)"
    return SourceError(f"{where}: cannot read the table: {text[:300]}{hint}")


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
    #: Data in memory: the one `RecordBatchReader` (read once).
    _stream: Any = field(default=None, repr=False)
    #: The order of a dataset's files (path -> rank); by path when absent.
    _order: Mapping[str, int] | None = field(default=None, repr=False)
    #: A Delta table pyarrow's dataset cannot read (deletion vectors, column mapping): delta-rs scans it.
    _delta: Any = field(default=None, repr=False)

    def batches(self, batch_rows: int = DEFAULT_BATCH_ROWS, columns: Sequence[str] | None = None) -> Iterator[Any]:
        """Record batches in table order; `columns` (names, each at most once) projects them."""
        try:
            yield from self._batches(batch_rows, columns)
        except SourceError:
            raise
        except (pa.ArrowException, OSError, ValueError, RecursionError) as exc:
            raise read_error(self.path, exc) from None

    def _fragments(self) -> list[Any]:
        fragments = list(self._dataset.get_fragments())
        order = self._order
        if order is None:
            return sorted(fragments, key=lambda f: str(f.path))

        def rank(fragment: Any) -> tuple[int, str]:
            path = str(fragment.path)
            best = [r for p, r in order.items() if path.endswith(p)]
            return (best[0] if best else len(order), path)

        return sorted(fragments, key=rank)

    def _batches(self, batch_rows: int, columns: Sequence[str] | None) -> Iterator[Any]:
        wanted = list(columns) if columns is not None else None
        if self.format == "arrow":
            reader, self._stream = self._stream, None
            if reader is None:
                raise SourceError(f"{self.path}: a stream of record batches can be read only once")
            yield from _select(_rebatch(reader, batch_rows), columns)
            return
        if self._delta is not None:
            yield from _select(_rebatch(_delta_scan(self._delta), batch_rows), columns)
            return
        if self._dataset is not None:
            for fragment in self._fragments():
                # The dataset's schema: partition columns filled in, files of narrower types widened.
                yield from fragment.to_batches(
                    schema=self._dataset.schema,
                    columns=wanted,
                    batch_size=batch_rows,
                    fragment_scan_options=_scan_options(self.format),
                )
            return
        if self.format == "parquet":
            yield from parquet_file(self.path).iter_batches(batch_size=batch_rows, columns=wanted)
        elif self.format == "csv":
            yield from _select(_csv_reader(Path(self.path), self.text_columns, batch_rows), columns)
        elif self.format == "json":
            yield from _select(_json_reader(Path(self.path), self.text_columns, batch_rows), columns)
        else:
            yield from _select(_ipc_batches(Path(self.path), batch_rows), columns)


def _delta_scan(delta: Any) -> Any:
    """delta-rs's own scan (DataFusion) of a table with deletion vectors or column mapping, as a RecordBatchReader.

    One partition: the files are read one after another, in the order delta-rs lists them, so
    row numbers are the same in every run of one table version.
    """
    from deltalake import QueryBuilder

    query = QueryBuilder(session_config={"datafusion.execution.target_partitions": "1"})
    return pa.RecordBatchReader.from_stream(query.register("t", delta).execute("SELECT * FROM t"))


def _delta_confined(delta: Any, root: Path) -> None:
    """Every data file of the Delta log inside the table folder. delta-rs already reads `../x`, `/x` and
    `file:/x` under the table root (they are then missing), but a log is untrusted: say so up front, in
    one line, and refuse links leading out of the folder too."""
    from urllib.parse import unquote

    for path in _add_paths(delta):
        name = unquote(path)
        if _REMOTE.match(name) or Path(name).is_absolute() or ".." in Path(name).parts:
            raise SourceError(
                f"{root}: the Delta log lists a data file outside the table ({name[:200]!r}); "
                "schemakit reads only files inside the table folder"
            )
        _confined(root / name, root, "Delta table")


def _add_paths(delta: Any) -> list[str]:
    actions = delta.get_add_actions(flatten=True)
    actions = actions.to_pydict() if hasattr(actions, "to_pydict") else dict(pa.table(actions).to_pydict())
    return [str(p) for p in actions["path"]]


def _delta_order(delta: Any) -> dict[str, int]:
    """Delta data files in the order they were added (commit time, then path): rows appended later come later."""
    actions = delta.get_add_actions(flatten=True)
    actions = actions.to_pydict() if hasattr(actions, "to_pydict") else dict(pa.table(actions).to_pydict())
    ranked = sorted(zip(actions["modification_time"], actions["path"], strict=True), key=lambda a: (str(a[0]), a[1]))
    return {path: rank for rank, (_, path) in enumerate(ranked)}


def parquet_file(path: str) -> Any:
    import pyarrow.parquet as pq

    # pre_buffer=False: pyarrow would otherwise read whole row groups (a whole file, often) ahead.
    # INT96 timestamps (Spark, Hive) as microseconds: as nanoseconds years outside 1677-2262 wrap around.
    return pq.ParquetFile(path, pre_buffer=False, coerce_int96_timestamp_unit="us")


def _scan_options(kind: str) -> Any:
    if kind not in ("parquet", "delta"):
        return None
    import pyarrow.dataset as ds

    return ds.ParquetFragmentScanOptions(pre_buffer=False)


def _select(batches: Iterator[Any], columns: Sequence[str] | None) -> Iterator[Any]:
    for batch in batches:
        yield batch if columns is None else batch.select(list(columns))


def _csv_options(path: Path, text_columns: Sequence[str]) -> tuple[Any, Any, Any]:
    import pyarrow.csv as pcsv

    # Arrow would infer timestamps from ISO-8601 text (leniently): text columns stay text.
    # Only an empty cell is a null (as pandas writes one): NA, null, N/A and NULL are text, and
    # "NaN" a float (Arrow's defaults read all of those as nulls).
    convert = pcsv.ConvertOptions(
        column_types={name: pa.string() for name in text_columns},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    # newlines_in_values: a quoted value may hold a newline (pandas and Spark write those).
    parse = pcsv.ParseOptions(delimiter="\t" if _suffix(path) == ".tsv" else ",", newlines_in_values=True)
    return pcsv.ReadOptions(block_size=1 << 22), parse, convert


def _csv_reader(path: Path, text_columns: Sequence[str], batch_rows: int) -> Iterator[Any]:
    import pyarrow.csv as pcsv

    _, parse, convert = _csv_options(path, text_columns)

    def reader(stream: Any, block: int) -> Any:
        read = pcsv.ReadOptions(block_size=block)
        return pcsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)

    yield from _growing_blocks(path, reader, batch_rows)


def _json_reader(path: Path, text_columns: Sequence[str], batch_rows: int) -> Iterator[Any]:
    import pyarrow.json as pjson

    # open_table screened the file's depth (`check_json_depth`) before any of this.
    schema = pa.schema([pa.field(name, pa.string()) for name in text_columns])
    parse = pjson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")

    def reader(stream: Any, block: int) -> Any:
        return pjson.open_json(stream, read_options=pjson.ReadOptions(block_size=block), parse_options=parse)

    yield from _growing_blocks(path, reader, batch_rows)


#: Text readers start with 4 MB blocks; a row longer than a block is read again with larger ones, up to this.
_MAX_BLOCK = 1 << 28


def _growing_blocks(path: Path, open_reader: Any, batch_rows: int) -> Iterator[Any]:
    """Batches of a text reader; when a row straddles two blocks (longer than one), the file is read again
    with blocks four times larger, skipping the rows already given."""
    block, given = 1 << 22, 0
    while True:
        seen = 0
        try:
            with pa.input_stream(str(path), compression="detect") as stream:
                for batch in _rebatch(open_reader(stream, block), batch_rows):
                    end = seen + len(batch)
                    if end > given:
                        part = batch.slice(given - seen) if given > seen else batch
                        given += len(part)
                        yield part
                    seen = end
            return
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc) or block >= _MAX_BLOCK:
                raise
            block *= 4


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
            try:
                batches = iter(pa.ipc.open_stream(source))
            except pa.ArrowInvalid:
                batches = _feather_v1(path, batch_rows)
        for batch in batches:
            for start in range(0, len(batch), batch_rows):
                yield batch.slice(start, batch_rows)


def _feather_v1(path: Path, batch_rows: int) -> Iterator[Any]:
    """Feather version 1 files (no IPC framing): read whole, as pyarrow only can (an old, small format)."""
    import warnings

    import pyarrow.feather as feather

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pyarrow deprecates v1; users still have such files
        table = feather.read_table(str(path), memory_map=True)
    yield from table.to_batches(batch_rows)


# -- depth of JSON values, before pyarrow's JSON reader sees them -----------------------------

_JSON_TOKEN = re.compile(rb'[\[\]{}"\\]')
_SCAN_BLOCK = 1 << 24


def _depth_limit() -> int:
    from schemakit.core.load import DEFAULT_MAX_DEPTH

    return DEFAULT_MAX_DEPTH


def check_json_depth(path: Path, limit: int | None = None) -> None:
    """Refuse a JSON Lines file with a value nested deeper than the project's depth limit.

    pyarrow's JSON reader recurses (and crashes the process some 20,000 levels down), so the
    bytes are screened first: a line with no more opening brackets than the limit cannot be
    too deep, which numpy decides a block at a time; only lines with more are scanned exactly.
    """
    import numpy as np

    limit = _depth_limit() if limit is None else limit
    suspects: list[tuple[int, int, int]] = []
    line_start, carried, offset, lines = 0, 0, 0, 0
    waiting = True  # the current line has shown nothing but blanks so far
    with pa.input_stream(str(path), compression="detect") as stream:
        while True:
            block = stream.read(_SCAN_BLOCK)
            if not block:
                break
            data = np.frombuffer(block, dtype=np.uint8)
            waiting = _objects_only(path, data, offset == 0, lines, waiting)
            cum = np.cumsum((data == 0x5B) | (data == 0x7B), dtype=np.int64)
            ends = np.flatnonzero(data == 0x0A)
            total = int(cum[-1])
            if carried + total > limit and len(ends):
                counts = np.diff(np.concatenate(([0], cum[ends])))
                counts[0] += carried
                for k in np.flatnonzero(counts > limit).tolist():
                    start = line_start if k == 0 else offset + int(ends[k - 1]) + 1
                    suspects.append((lines + k + 1, start, offset + int(ends[k])))
            if len(ends):
                carried = total - int(cum[ends[-1]])
                line_start = offset + int(ends[-1]) + 1
                lines += len(ends)
            else:
                carried += total
            offset += len(block)
    if carried > limit:
        suspects.append((lines + 1, line_start, offset))
    if suspects:
        _scan_exactly(path, suspects, limit)


def _objects_only(path: Path, data: Any, at_start: bool, lines: int, waiting: bool) -> bool:
    """Refuse a line that is not a JSON object (pyarrow's reader crashes on a first line of `null`).

    Vectorised over one block: the first non-blank byte of each line must be `{`. Returns whether
    the block ends inside a line that has shown only blanks so far.
    """
    import numpy as np

    blank = (data == 0x20) | (data == 0x09) | (data == 0x0D) | (data == 0x0A)
    if at_start and data[:3].tobytes() == b"\xef\xbb\xbf":
        blank[:3] = True  # a BOM before the first line
    ends = np.flatnonzero(data == 0x0A)
    shown = np.flatnonzero(~blank)
    if not len(shown):
        return waiting if not len(ends) else True
    segment = np.searchsorted(ends, shown)  # 0: the line the block began inside
    segments, first = np.unique(segment, return_index=True)
    starts = shown[first]
    check = segments > 0 if not waiting else np.ones(len(segments), dtype=bool)
    bad = check & (data[starts] != 0x7B)
    if bad.any():
        line = lines + int(segments[np.flatnonzero(bad)[0]]) + 1
        raise SourceError(f"{path}: line {line}: not a JSON object (JSON Lines hold one object per line)")
    return bool(segments[-1] != len(ends)) if len(ends) else False


def _scan_exactly(path: Path, suspects: list[tuple[int, int, int]], limit: int) -> None:
    """Read the suspect lines again (in order, one at a time) and measure their depth exactly."""
    with pa.input_stream(str(path), compression="detect") as stream:
        position = 0
        for line, start, end in suspects:
            while position < start:
                skipped = stream.read(min(_SCAN_BLOCK, start - position))
                if not skipped:
                    return
                position += len(skipped)
            text = stream.read(end - start)
            position += len(text)
            if _json_depth(text) > limit:
                raise SourceError(f"{path}: line {line}: a JSON value nested more than {limit} levels deep")


def _json_depth(text: bytes) -> int:
    """The deepest nesting of brackets outside strings (the line need not be valid JSON)."""
    depth = deepest = 0
    in_string = False
    escaped_at = -1
    for match in _JSON_TOKEN.finditer(text):
        at = match.start()
        char = text[at]
        if in_string:
            if at == escaped_at:
                continue
            if char == 0x5C:
                escaped_at = at + 1
            elif char == 0x22:
                in_string = False
            continue
        if char == 0x22:
            in_string = True
        elif char in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif char in (0x5D, 0x7D):
            depth -= 1
    return deepest


# -- opening ----------------------------------------------------------------------------------


def remote_refusal(where: str) -> SourceError:
    scheme = where.split(":", 1)[0]
    return SourceError(
        f"{where}: a {scheme}: URI; check-table reads local tables. Check it where it lives with "
        "`schemakit check-table --engine spark` (on a cluster that can read it) or, in a notebook, "
        "`schemakit.spark.check_dataframe(spark.read...)`; or copy it here first"
    )


def open_table(
    path: str | os.PathLike[str],
    *,
    text_columns: Sequence[str] = (),
    column_types: Mapping[str, Any] | None = None,
) -> TableSource:
    """Open a table for streaming; `text_columns` stay text in formats whose readers infer types.

    `path` is a file, a folder (Parquet, CSV, JSON Lines or Arrow files, Hive partitions
    included; a Delta table) or a glob of files. `column_types` (name -> Arrow type) types
    the values of Hive partition columns (in folder names they are text).
    """
    where = os.fspath(path)
    if where.startswith("file://"):
        from urllib.parse import unquote, urlsplit

        where = unquote(urlsplit(where).path)  # a local file named as a URI
    if _REMOTE.match(where) and not re.match(r"^[A-Za-z]:[\\/]", where):
        raise remote_refusal(where)
    files: list[Path] | None = None
    if _GLOB.search(where) and not Path(where).exists():
        files = sorted(Path(p) for p in glob.glob(where, recursive=True) if Path(p).is_file())
        if not files:
            raise SourceNotFound(f"{where}: no file matches")
        for file in files:  # `**` follows links to folders: a match may lie outside what the pattern names
            _confined(file, _glob_base(where), "folder")
        kinds = {_SUFFIXES.get(_suffix(p)) for p in files}
        if None in kinds or len(kinds) != 1:
            raise SourceError(f"{where}: matches files of several or unknown table formats; match one format")
        kind = str(kinds.pop())
    else:
        location = Path(where)
        if not location.exists():
            raise SourceNotFound(f"{where}: no such file or folder")
        kind = table_format(location)
    try:
        return _named(_open(where, kind, text_columns, files, column_types or {}))
    except SourceError:
        raise
    except (pa.ArrowException, OSError, ValueError, RecursionError) as exc:
        raise read_error(where, exc) from None
    except Exception as exc:  # deltalake raises its own exception types (TableNotFoundError, DeltaError, ...)
        raise read_error(where, exc) from None


def _named(source: TableSource) -> TableSource:
    """The source, once its column names are known to be text (a CSV header or an IPC schema may hold any bytes)."""
    try:
        list(source.schema.names)
    except UnicodeDecodeError:
        raise SourceError(f"{source.path}: the column names are not UTF-8 text") from None
    return source


def from_arrow(data: Any, name: str = "<data>") -> TableSource:
    """Data in memory as a source: a pyarrow Table, RecordBatch or RecordBatchReader, or anything with
    `__arrow_c_stream__` (a pandas 2.2+, polars or DuckDB result); pandas DataFrames without it convert."""
    reader: Any
    if isinstance(data, pa.RecordBatchReader):
        reader = data
    elif isinstance(data, pa.Table):
        reader = pa.RecordBatchReader.from_batches(data.schema, data.to_batches())
    elif isinstance(data, pa.RecordBatch):
        reader = pa.RecordBatchReader.from_batches(data.schema, [data])
    elif type(data).__module__.startswith("pandas") and hasattr(data, "columns"):
        table = pa.Table.from_pandas(data, preserve_index=False)
        reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
    elif hasattr(data, "__arrow_c_stream__"):
        reader = pa.RecordBatchReader.from_stream(data)
    elif hasattr(data, "to_arrow"):  # a DuckDB relation of an older DuckDB
        return from_arrow(data.to_arrow(), name)
    else:
        raise SourceError(
            f"{name}: not a table: pass a path, a pyarrow Table or RecordBatchReader, or a DataFrame "
            f"(pandas, polars, DuckDB), not {type(data).__name__}"
        )
    return _named(TableSource(name, "arrow", reader.schema, _stream=reader))


def _file_schemas(files: Sequence[str], kind: str) -> Any:
    """One schema for files whose schemas may differ: unified (a column missing from a file is null there,
    int32 and int64 make int64), or a SourceError naming the column and the two files."""

    schemas: list[tuple[str, Any]] = []
    for file in files:
        if kind == "parquet":
            schema = parquet_file(file).schema_arrow  # INT96 as microseconds here too
        else:
            with pa.memory_map(file) as source:
                try:
                    schema = pa.ipc.open_file(source).schema
                except pa.ArrowInvalid:
                    source.seek(0)
                    schema = pa.ipc.open_stream(source).schema
        schemas.append((file, schema))
    distinct = {schema for _, schema in schemas}
    if len(distinct) == 1:
        return schemas[0][1]
    try:
        return pa.unify_schemas([schema for _, schema in schemas], promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        pass
    seen: dict[str, tuple[str, Any]] = {}
    for file, schema in schemas:
        for fld in schema:
            first = seen.setdefault(fld.name, (file, fld.type))
            try:
                pa.unify_schemas(
                    [pa.schema([pa.field(fld.name, first[1])]), pa.schema([fld])], promote_options="permissive"
                )
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                raise SourceError(
                    f"column {fld.name!r} is {first[1]} in {first[0]} but {fld.type} in {file}: "
                    "the files of one table must agree; rewrite them with one type"
                ) from None
    raise SourceError("the files' schemas cannot be unified") from None


def _dataset(
    where: str, kind: str, files: list[str], base: str | None, text_columns: Sequence[str], types: Mapping[str, Any]
) -> TableSource:
    import pyarrow.dataset as ds

    partitioning = _partitioning(files, base, types) if base is not None else None
    if kind in ("parquet", "ipc"):
        fmt: Any = (
            ds.ParquetFileFormat(
                read_options=ds.ParquetReadOptions(coerce_int96_timestamp_unit="us"),
                default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False),
            )
            if kind == "parquet"
            else ds.IpcFileFormat()
        )
        try:
            schema = _file_schemas(files, kind)
        except SourceError as exc:
            raise SourceError(f"{where}: {exc}") from None
        found = ds.dataset(files, format=fmt, partitioning=partitioning, partition_base_dir=base)
        for name in found.schema.names:
            if name not in schema.names:
                schema = schema.append(found.schema.field(name))
        dataset = ds.dataset(files, schema=schema, format=fmt, partitioning=partitioning, partition_base_dir=base)
        return TableSource(where, kind, dataset.schema, _dataset=dataset)
    if kind == "csv":
        read, parse, convert = _csv_options(Path(files[0]), text_columns)
        fmt = ds.CsvFileFormat(parse_options=parse, convert_options=convert, read_options=read)
    else:
        import pyarrow.json as pjson

        for file in files:
            check_json_depth(Path(file))
        names = _json_text_columns(Path(files[0]), text_columns)
        parse_json = pjson.ParseOptions(
            explicit_schema=pa.schema([pa.field(n, pa.string()) for n in names]), unexpected_field_behavior="infer"
        )
        fmt = ds.JsonFileFormat(parse_options=parse_json, read_options=pjson.ReadOptions(block_size=1 << 22))
    dataset = ds.dataset(files, format=fmt, partitioning=partitioning, partition_base_dir=base)
    return TableSource(where, kind, dataset.schema, text_columns, _dataset=dataset)


def _partitioning(files: Sequence[str], base: str, types: Mapping[str, Any]) -> Any:
    """Hive partitioning of the folder: a partition column the model types is read as that type
    (`flag=true` a boolean); without any, pyarrow infers them (int32 or text)."""
    import pyarrow.dataset as ds

    names: list[str] = []
    for file in files:
        for part in Path(os.path.relpath(file, base)).parts[:-1]:
            name = part.split("=", 1)[0]
            if "=" in part and name not in names:
                names.append(name)
    if not names or not any(name in types for name in names):
        return ds.HivePartitioning.discover(infer_dictionary=False)
    # A partition column the model does not declare is an unknown column, whatever its type: text.
    return ds.partitioning(pa.schema([pa.field(n, types.get(n, pa.string())) for n in names]), flavor="hive")


def _json_text_columns(path: Path, text_columns: Sequence[str]) -> list[str]:
    """The text columns to read as text: those the file has, as text (numbers, such as pandas' epoch
    milliseconds in a datetime column, stay numbers and get `column-type`)."""
    head = next(iter(TableSource(str(path), "json", None)._batches(1024, None)), None)
    if head is None:
        return []
    keep = []
    for name in text_columns:
        index = head.schema.get_field_index(name)
        if index >= 0:
            t = head.schema.field(index).type
            if pa.types.is_string(t) or pa.types.is_timestamp(t) or pa.types.is_null(t) or pa.types.is_date(t):
                keep.append(name)
    return keep


def _open(
    where: str, kind: str, text_columns: Sequence[str], files: list[Path] | None, types: Mapping[str, Any]
) -> TableSource:
    location = Path(where)
    if kind == "delta":
        from deltalake import DeltaTable

        delta = DeltaTable(where)
        _delta_confined(delta, location)
        try:
            dataset = delta.to_pyarrow_dataset()
        except Exception as exc:  # deltalake's DeltaProtocolError: reader features pyarrow's dataset lacks
            if "reader features" not in str(exc):
                raise
            return TableSource(where, kind, _delta_scan(delta).schema, _delta=delta)
        return TableSource(where, kind, dataset.schema, num_rows=None, _dataset=dataset, _order=_delta_order(delta))
    if files is None and location.is_dir():
        found = [str(p) for p in _data_files(location) if _SUFFIXES.get(_suffix(p)) == kind]
        return _dataset(where, kind, found, where, text_columns, types)
    if files is not None:
        if len(files) > 1 or kind in ("parquet", "ipc"):
            return _dataset(where, kind, [str(f) for f in files], None, text_columns, types)
        where, location = str(files[0]), files[0]
    if kind == "parquet":
        parquet = parquet_file(where)
        return TableSource(where, kind, parquet.schema_arrow, num_rows=parquet.metadata.num_rows)
    if kind == "json":
        check_json_depth(location)
        # An explicit schema would add the text columns the file lacks, as nulls: keep those it has.
        text_columns = _json_text_columns(location, text_columns)
    first = next(iter(TableSource(where, kind, None, text_columns)._batches(1024, None)), None)
    if first is not None:
        return TableSource(where, kind, first.schema, text_columns)
    if kind == "csv":  # a header and no rows: a table of no rows (`empty-input`)
        import pyarrow.csv as pcsv

        read, parse, convert = _csv_options(location, text_columns)
        with pa.input_stream(where, compression="detect") as stream:
            schema = pcsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert).schema
        return TableSource(where, kind, schema, text_columns)
    raise SourceError(f"{where}: the file holds no table (not even a header)")
