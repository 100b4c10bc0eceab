"""A tool's `state` parameter: copy-on-write, its changes applied as updates (SPEC section 1)."""

from __future__ import annotations

import pickle

import pytest

from wfe.state.view import StateView

FLOW = """
imports: [TOOLS]
state:
  a: {type: int, default: 1}
  name: {type: str, default: "x"}
  items: {type: list, default: [1, 2]}
  tree: {type: dict, default: {"deep": {"n": 1}}}
nodes:
  f: {tool: change}
"""
DEFAULTS = {"a": 1, "name": "x", "items": [1, 2], "tree": {"deep": {"n": 1}}}


@pytest.mark.parametrize(("body", "changed"), [
    ("state['a'] *= 2", {"a": 2}),
    ("state['items'].append(3)", {"items": [1, 2, 3]}),
    ("items = state['items']\n    items.append(3)\n    items.append(4)", {"items": [1, 2, 3, 4]}),
    ("state['tree']['deep']['n'] = 2", {"tree": {"deep": {"n": 2}}}),
    ("state.update(a=5, name='y')", {"a": 5, "name": "y"}),
    ("state.copy()['items'].append(3)", {"items": [1, 2, 3]}),
    ("for key, value in state.items():\n        if key == 'items':\n            value.append(3)",
     {"items": [1, 2, 3]}),
    ("state['a'] = 2\n    return {'name': 'z'}", {"a": 2, "name": "z"}),
    ("state['a'] = 2\n    return state", {"a": 2}),
    ("del state['a']", {}),  # a deleted key is not an update: the key keeps its value
    ("state['items'].append(3)\n    state['items'].pop()", {}),  # changed back: no update
], ids=["write", "append", "alias", "nested", "update", "copy", "items", "and-return",
        "return-state", "delete", "unchanged"])
def test_state_parameter_changes_become_updates(make_workflow, body, changed):
    tools = f"@tool\ndef change(state):\n    {body}\n"
    assert make_workflow(FLOW, tools).run().state == {**DEFAULTS, **changed}


def test_state_parameter_returned_under_out_is_stored_as_a_plain_copy(make_workflow):
    flow = FLOW.replace("f: {tool: change}", "f: {tool: change, out: tree}")
    tools = "@tool\ndef change(state):\n    state['a'] = 2\n    return state\n"
    tree = make_workflow(flow, tools).run().state["tree"]
    assert type(tree) is dict and tree == {**DEFAULTS, "a": 2}


def test_state_parameter_keys_a_tool_does_not_write_stay_the_same_objects(make_workflow):
    import asyncio

    workflow = make_workflow(FLOW, "@tool\ndef change(state):\n"
                                   "    state['a'] = len(state['items']) + len(state)\n")
    state = workflow.initial_state()
    items, tree = state["items"], state["tree"]
    result = asyncio.run(workflow.arun(state=state))
    assert result.state["a"] == 6
    assert result.state["items"] is items and result.state["tree"] is tree


def view_of(state: dict) -> StateView:
    return StateView(state)


def test_view_hands_out_immutable_values_themselves():
    text = "a" * 100
    view = view_of({"text": text, "items": [1]})
    assert view["text"] is text
    assert view.changes({"text": text, "items": [1]}) == {}


def test_view_copies_nothing_before_a_key_is_read():
    state = {"items": [1]}
    view = view_of(state)
    state["items"].append(2)  # not copied yet: the view reads the state as it is now
    assert view["items"] == [1, 2]


def test_view_copies_a_mutable_value_once_on_first_read():
    items = [[1], {"k": [2]}]
    view = view_of({"items": items})
    first = view["items"]
    assert first == items and first is not items
    assert first[0] is not items[0] and first[1]["k"] is not items[1]["k"]
    assert view["items"] is first
    first.append(3)
    assert items == [[1], {"k": [2]}]


@pytest.mark.parametrize(("edit", "contents"), [
    (lambda v: v.__setitem__("new", 1), {"a": 1, "b": [2], "new": 1}),
    (lambda v: v.__delitem__("a"), {"b": [2]}),
    (lambda v: (v.__delitem__("a"), v.__setitem__("a", 3)), {"a": 3, "b": [2]}),
    (lambda v: v.pop("b"), {"a": 1}),
    (lambda v: v.clear(), {}),
], ids=["add", "delete", "delete-then-set", "pop", "clear"])
def test_view_reads_as_its_edits_left_it(edit, contents):
    view = view_of({"a": 1, "b": [2]})
    edit(view)
    assert dict(view) == contents and view == contents and len(view) == len(contents)
    assert list(view) == list(contents)
    assert all(key in view for key in contents) and "gone" not in view


def test_view_deleted_key_raises_key_error():
    view = view_of({"a": 1})
    del view["a"]
    with pytest.raises(KeyError):
        view["a"]
    with pytest.raises(KeyError):
        del view["a"]
    assert view.get("a", "none") == "none"


def test_view_changes_are_the_written_keys_that_differ():
    state = {"a": 1, "b": [2], "c": "x"}
    view = view_of(state)
    view["a"] = 1  # the same value: not a change
    view["b"].append(3)
    view["d"] = True
    del view["c"]  # not an update
    assert view.changes(state) == {"b": [2, 3], "d": True}


def test_view_travels_to_another_process_as_a_plain_dict():
    view = view_of({"a": 1, "b": [2]})
    view["a"] = 5
    sent = pickle.loads(pickle.dumps(view))
    assert type(sent) is dict and sent == {"a": 5, "b": [2]}
