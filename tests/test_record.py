"""Records of the file format: declared once, checked, built and described from one place."""

from __future__ import annotations

from wfe.spec.record import Record, field
from wfe.spec.rules import Report, Text, Whole
from wfe.spec.yaml_loader import Positions


def test_a_record_that_extends_another_takes_its_keys_first():
    class Base(Record):
        name: str = field(Text())

    class Child(Base):
        size: int = field(Whole(), default=1)

    assert list(Child.fields) == ["name", "size"]
    report = Report(Positions(), "wf.yaml")
    child = Child.check({"name": "a", "size": 2}, (), report)
    assert (child.name, child.size, report.problems) == ("a", 2, [])
    assert Child.check({"size": 2}, (), report) is not None and report.problems  # name required
    assert list(Base.fields) == ["name"]
