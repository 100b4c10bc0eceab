"""The workflow file format: its sections (`wfe.spec.models`, built from `wfe.spec.record` and
`wfe.spec.rules`) and loading a file (`wfe.spec.load`)."""
