"""`schemakit mock`: a local emulator of the serving-endpoints REST API on 127.0.0.1.

- `server`: `MockServer`, the library and pytest entry point;
- `emulator`: the HTTP handler and the emulated workspace;
- `state`: endpoint settings and the state file;
- `responses`: deterministic, schema-shaped predictions.
"""
