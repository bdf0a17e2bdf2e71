"""`python -m schemakit` runs the command line."""

from schemakit.cli.main import main

main()
