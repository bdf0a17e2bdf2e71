"""`python -m schemakit` runs the command line."""

from schemakit._cli import main

main()
