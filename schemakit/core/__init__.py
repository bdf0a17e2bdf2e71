"""Core: read a document and resolve it, once, into the typed model every feature reads.

- `sources`: where a document comes from (files, `-`, URLs, `git:`; features register
  `endpoint:` and `mlflow:`);
- `load`: reading bytes into JSON values (JSON, YAML, size caps);
- `refs`: `$ref` inlining, with cycles, remote refs and size bounds refused;
- `resolve`: the resolved model (`model`), built once;
- `validate`, `inspect`: `schemakit validate` and `schemakit inspect`.
"""
