"""`schemakit codegen`: typed client packages (Python, TypeScript) from the resolved model.

- `generate`: the package as files in memory, and writing it atomically;
- `plans`: class and field names, and the JSON Schema fed to datamodel-code-generator;
- `typescript`: the TypeScript target;
- `naming`: safe, stable identifiers from document text;
- `templates/`: the Jinja2 templates.
"""
