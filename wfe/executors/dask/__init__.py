"""Fan-out on a Dask cluster (the optional extra `wfe[dask]`): `--executor dask` starts a
LocalCluster sized to the machine, `--executor dask://HOST:PORT` uses a running scheduler.

Importing this package imports `distributed`; wfe.executors.cluster does so only when asked for
Dask.
"""

from __future__ import annotations

from wfe.errors import UsageError as _UsageError
from wfe.executors.dask.executor import NO_WORKERS_TIMEOUT as _NO_WORKERS_TIMEOUT
from wfe.executors.dask.executor import ClusterUnavailable, DaskExecutor
from wfe.executors.remote.payload import SerialisationError

__all__ = ["ClusterUnavailable", "DaskExecutor", "SerialisationError", "open_executor"]


def open_executor(address: str | None, options: dict[str, str], origin: str) -> DaskExecutor:
    """The executor of `dask` (address None: a LocalCluster) or `dask://HOST:PORT`."""
    # deferred: connecting imports dask's scheduler side (LocalCluster), needed only here
    from wfe.executors.dask.connect import connect, start_local, stop_local

    timeout = _positive(options, "no_workers_timeout", origin) or _NO_WORKERS_TIMEOUT
    if address is None:
        workers = _positive(options, "workers", origin, whole=True)
        threads = _positive(options, "threads", origin, whole=True)
        client, cluster = start_local(_whole(workers), _whole(threads), origin)
        return DaskExecutor(client, address=str(cluster.scheduler_address),
                            share_sys_path=True, no_workers_timeout=timeout,
                            stop=lambda: stop_local(cluster))
    for key in ("workers", "threads"):
        if key in options:
            raise _UsageError(f"{origin}: option '{key}' sizes the LocalCluster of `dask`; "
                             f"a scheduler at an address has the workers it has")
    return DaskExecutor(connect(address, origin), address=f"tcp://{address}",
                        no_workers_timeout=timeout)


def _positive(options: dict[str, str], key: str, origin: str, *,
              whole: bool = False) -> float | None:
    text = options.get(key)
    if text is None:
        return None
    try:
        value = float(int(text)) if whole else float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise _UsageError(f"{origin}: option {key}={text!r} must be a positive "
                         f"{'whole ' if whole else ''}number")
    return value


def _whole(value: float | None) -> int | None:
    return None if value is None else int(value)
