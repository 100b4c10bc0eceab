"""The workflow file format: its models (`wfe.spec.models`) and loading (`wfe.spec.load`)."""

from wfe.pydantic_plugins import without_plugins

with without_plugins():
    from wfe.spec import models  # noqa: F401  (built here, whoever imports it first)
