"""The measuring worker's entry point (`python -m code_review_tools._worker`): see `_measure`.

A module of its own, which the package does not import, so that running it does not import it
twice."""

from code_review_tools._measure import serve

serve()
