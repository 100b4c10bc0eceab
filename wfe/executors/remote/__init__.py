"""One tool call that runs in another process: how wfe packs it (payload) and how a worker runs
it (worker). Nothing here knows which cluster carries the call: wfe.executors.dask runs
`worker.run_call` in a Dask task (wfe.executors.dask.task); another cluster's executor could
submit the same function.
"""
