"""A file's nodes read by their kinds' records: which kind a node is, which of its keys belong
to another kind (an error naming both), and the record of the rest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wfe.errors import did_you_mean
from wfe.nodes._base import NodeKind
from wfe.spec.models import NodeCommon
from wfe.spec.rules import INVALID, Report
from wfe.spec.yaml_loader import YamlPath


class NodeReader:
    """Reads nodes by the kinds given (wfe.nodes' table), in their order."""

    def __init__(self, kinds: Sequence[NodeKind[Any]]) -> None:
        self.kinds = {kind.name: kind for kind in kinds}
        self.records: tuple[type[NodeCommon], ...] = tuple(kind.record for kind in kinds)
        self._by_record = {kind.record: kind for kind in kinds}
        #: A key any kind takes -> the kinds that take it: their own keys first, then those
        #: that borrow it (a `map:` the keys of what it runs per item).
        self._owners: dict[str, list[str]] = {}
        for kind in kinds:
            for key in kind.own_keys:
                self._owners.setdefault(key, []).append(kind.name)
        for kind in kinds:
            for key in kind.borrowed_keys - kind.own_keys:
                self._owners.setdefault(key, []).append(kind.name)

    def kind_reading(self, node: NodeCommon) -> NodeKind[Any]:
        """The kind whose record read a node of the file."""
        return self._by_record[type(node)]

    def read(self, nodes: Any, report: Report) -> dict[str, NodeCommon]:
        """Each node of a file's `nodes:` read by its kind's record, every problem reported at
        its place; a node that cannot be read is left out (its problems say why)."""
        read: dict[str, NodeCommon] = {}
        if type(nodes) is not dict:
            return read  # the spec reported it
        for name, given in nodes.items():
            if type(given) is dict:  # else the spec reported it
                record = self._read(str(name), given, ("nodes", name), report)
                if record is not None:
                    read[name] = record
        return read

    def _read(self, name: str, given: dict[str, Any], path: YamlPath, report: Report
              ) -> NodeCommon | None:
        present = [kind for kind in self.kinds if kind in given]
        # A kind that takes another's key runs it (a map's `tool:` is what it runs per item).
        found = [kind for kind in present
                 if not any(kind in self.kinds[other].borrowed_keys for other in present)]
        if len(found) != 1:
            report.add("WFE022", f"node '{name}' needs exactly one kind "
                       f"({', '.join(self.kinds)}); it has "
                       f"{' and '.join(found) if found else 'none'}", path, at_key=True)
            return None
        kind = self.kinds[found[0]]
        allowed, what = kind.keys(given)
        for key in given:
            if key in allowed:
                continue
            if key in self._owners:
                report.add("WFE024", f"`{key}` does not belong to {what}; it belongs to "
                           f"{self._named(key)}{kind.hint_for(key)}", (*path, key), at_key=True)
            else:
                hint = did_you_mean(str(key), allowed)
                report.add("WFE010", f"unknown key '{key}'{hint}", (*path, key), at_key=True)
        record = kind.record.check({k: v for k, v in given.items() if k in allowed}, path,
                                   report)
        return None if record is INVALID or any(key not in allowed for key in given) else record

    def _named(self, key: str) -> str:
        kinds = self._owners[key]
        names = ", ".join(kinds[:-1]) + " and " + kinds[-1] if len(kinds) > 1 else kinds[0]
        return f"{names} nodes"
