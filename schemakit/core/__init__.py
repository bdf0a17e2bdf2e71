"""Core: read a document and resolve it, once, into the typed model every feature reads.

- `sources`: where a document comes from (files, `-`, URLs, `git:`; features register
  `endpoint:` and `mlflow:`);
- `load`: reading bytes into JSON values (JSON, YAML, size caps);
- `refs`: `$ref` inlining, with cycles, remote refs and size bounds refused (before the work);
- `model`: the frozen dataclasses; `types`: the one type table (JSON Schema <-> `Kind`, and what
  each Kind is in Python, TypeScript, Arrow, Spark, the emulator and `diff`);
- `lint`: the document rules (`DOCUMENT_RULES`) and the checks across formats;
- `normalize` (OpenAPI schema -> JSON Schema 2020-12), `infer` (schemas -> `DataType`, columns,
  tensors, params) and `resolve` (the document walk) build the model, in that order of layers;
- `validate`, `inspect`: `schemakit validate` and `schemakit inspect`.
"""
