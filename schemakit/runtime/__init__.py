"""The runtime generated packages run on: the payload validation engine and the HTTP helpers.

Standard library plus optional msgspec, nothing else: `schemakit codegen` copies this
directory into every generated package, and schemakit itself uses the same modules.
"""
