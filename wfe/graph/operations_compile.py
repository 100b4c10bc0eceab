"""The compiler's checks of `pool:` on nodes and of `schedule:`, which reach outside the file:
pools are declared in pyproject.toml, and a schedule's inputs must be state keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wfe.errors import did_you_mean
from wfe.spec.schedule import schedules_of
from wfe.spec.yaml_loader import YamlPath

if TYPE_CHECKING:
    from wfe.graph.compile_context import Compiling


def pool_size(compiler: Compiling, pool: str | None, path: YamlPath) -> int:
    """The size `[tool.wfe.pools]` gives the node's pool (0: none, or not declared: WFE080)."""
    if pool is None:
        return 0
    if compiler.pools is None:
        # Imported here for start-up time: tomllib loads only for a workflow with `pool:` keys.
        from wfe.spec.project_config import configured_pools

        compiler.pools = configured_pools()
    size = compiler.pools.get(pool)
    if size is None:
        declared = ", ".join(sorted(compiler.pools)) or "none"
        compiler.problem("WFE080", f"pool '{pool}' is not declared in [tool.wfe.pools] of "
                         f"pyproject.toml{did_you_mean(pool, compiler.pools)} (declared: "
                         f"{declared})", path)
        return 0
    return size


def check_schedule_inputs(compiler: Compiling) -> None:
    """Each schedule's `inputs` are declared state keys."""
    schedule = compiler.spec.schedule
    many = isinstance(schedule, list)
    for index, each in enumerate(schedules_of(schedule)):
        where: YamlPath = ("schedule", index) if many else ("schedule",)
        for key in each.inputs:
            if key not in compiler.state_keys:
                compiler.undeclared(key, (*where, "inputs", key))
