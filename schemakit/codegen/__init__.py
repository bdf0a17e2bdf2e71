"""`schemakit codegen`: typed client packages (Python, TypeScript) from the resolved model.

- `generate`: checks, plans the served models, and dispatches to a target (`TARGET_MODULES`);
- `package`: the package values (`GeneratedFile`, `GeneratedPackage`), the templates' environment, the atomic writer;
- `plans`: modules, class and field names, and the JSON Schema fed to datamodel-code-generator;
- `reserved`: every identifier the generated modules use, derived from the templates (no model may take one);
- `pytarget`, `python`: the Python target (the `codegen` extra) and its pieces of text;
- `typescript`: the TypeScript target;
- `naming`: safe, stable identifiers from document text;
- `templates/`: the Jinja2 templates, the TypeScript runtime and the probe document.
"""
