"""`python -m wfe`."""

from wfe.cli import main

main()
