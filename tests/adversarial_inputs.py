"""Workflow files that are hard on the loader yet at most 1 MiB (reliability.md §2.6 and §6,
target 5: each is loaded or refused in < 3 s), plus a typical one and one over the cap. Shared by
tests/test_reliability_targets.py (each settles as problems, never an exception) and
benchmarks/reliability_targets.py (how long each takes).
"""

from __future__ import annotations

from collections.abc import Callable

from wfe.spec.yaml_loader import MAX_BYTES

HEADER = "imports: [tools]\nnodes:\n  a: {tool: noop}\n"
# Bytes left for the payload, so that every input stays within the cap.
ROOM = MAX_BYTES - 4096


def long_scalar() -> str:
    return HEADER + f"description: \"{'x' * ROOM}\"\n"


def long_escaped_scalar() -> str:
    escapes = "\\u00e9" * (ROOM // 6)
    return HEADER + f'description: "{escapes}"\n'


def folded_text() -> str:
    line = "  " + "word " * 15 + "\n"
    return HEADER + "description: >\n" + line * (ROOM // len(line))


def comments() -> str:
    line = "# " + "c" * 60 + "\n"
    return HEADER + line * (ROOM // len(line))


def block_list_items() -> str:
    return HEADER.replace("nodes:", "state:\n  big:\n    type: list\n    default:\n" +
                          "    - 0\n" * (ROOM // 8) + "nodes:")


def flow_list_items() -> str:
    return HEADER.replace("nodes:", "state:\n  big: {type: list, default: [" +
                          "0, " * (ROOM // 3) + "]}\nnodes:")


def flow_mapping_keys() -> str:
    keys = ", ".join(f"k{n}: 0" for n in range(95_000))
    return HEADER.replace("nodes:", f"state:\n  big: {{type: dict, default: {{{keys}}}}}\nnodes:")


def anchors() -> str:
    items = ", ".join(f"&a{n} 0" for n in range(87_000))
    return HEADER.replace("nodes:", f"state:\n  big: {{type: list, default: [{items}]}}\nnodes:")


def aliases_under_the_expansion_cap() -> str:
    anchor = "      base: &b [" + ", ".join("0" for _ in range(999)) + "]\n"
    uses = "".join(f"      u{n}: *b\n" for n in range(98))
    return HEADER.replace("nodes:", "state:\n  big:\n    type: any\n    default:\n" + anchor +
                          uses + "nodes:")


def nesting_at_the_depth_limit() -> str:
    nest = "[" * 62 + "0" + "]" * 62
    lines = "".join(f"    k{n}: {nest}\n" for n in range(ROOM // (len(nest) + 12)))
    return HEADER.replace("nodes:", f"state:\n  big:\n    type: any\n    default:\n{lines}nodes:")


def chain_of_nodes(limit: int = ROOM) -> str:
    """A valid workflow: a chain of nodes, each with a condition, as large as `limit` allows."""
    parts = ["imports: [tools]\nstate:\n  i: {type: int, default: 0}\nlimits: {max_steps: 100000}\n"
             "nodes:\n"]
    size, n = len(parts[0]), 0
    while True:
        node = (f"  n{n}:\n    tool: inc\n    description: node number {n}\n    next:\n"
                f"      - when: i > {n} and i < {n + 100}\n        then: n{n + 1}\n"
                f"      - then: end\n")
        if size + len(node) > limit - 200:
            break
        parts.append(node)
        size += len(node)
        n += 1
    parts.append(f"  n{n}: {{tool: inc}}\n")
    return "".join(parts)


#: Each hard input by name, all at most MAX_BYTES.
ADVERSARIAL: dict[str, Callable[[], str]] = {
    "long scalar": long_scalar,
    "long escaped scalar": long_escaped_scalar,
    "1 MiB of folded text": folded_text,
    "1 MiB of comments": comments,
    "block list of 130k items": block_list_items,
    "flow list of 350k items": flow_list_items,
    "flow mapping of 95k keys": flow_mapping_keys,
    "87k anchors": anchors,
    "aliases just under the expansion cap": aliases_under_the_expansion_cap,
    "nesting at the depth limit": nesting_at_the_depth_limit,
    "chain of nodes filling 1 MiB": chain_of_nodes,
}


def typical() -> str:
    """A typical workflow just under 20 KB: a chain of nodes with conditions."""
    return chain_of_nodes(20_000)


def oversized() -> bytes:
    """A valid chain of nodes over the cap (bad_yaml case 19)."""
    return (chain_of_nodes(MAX_BYTES + 200_000)).encode()
