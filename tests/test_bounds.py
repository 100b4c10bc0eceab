"""What one run may build from a small file: template text per tool call, error text."""

from __future__ import annotations

KWARGS_TOOLS = '''
@tool
def take(**kwargs) -> dict:
    return {"n": len(kwargs)}
'''


def test_the_templates_of_one_call_build_at_most_100000_characters(make_workflow) -> None:
    params = ", ".join(f"p{n}: 'x ${{ s }}'" for n in range(11))
    workflow = make_workflow(f"""
        imports: [TOOLS]
        state: {{s: {{type: str, default: "{'y' * 9990}"}}, n: int}}
        nodes:
          call: {{tool: take, with: {{{params}}}}}
    """, KWARGS_TOOLS)
    result = workflow.run()
    assert result.status == "failed"
    assert result.error is not None
    assert "templates of one call would build over 100000 characters" in result.error.message
