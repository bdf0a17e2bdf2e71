"""`schemakit check`: payload validation for apps, the emulator and the CLI.

The engine itself lives in `schemakit.runtime` (generated packages carry a copy);
this subpackage binds it to the resolved model (`validator`) and to web apps
(`middleware`).
"""
