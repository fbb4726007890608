"""The hook reference's examples (core/hookspecs.py, docs/hooks.md) are right: together
they are a plugin that loads as the platform loads one and passes the test kit."""

from __future__ import annotations

import inspect
import textwrap
import types

import httpx

from praxis.core import hookspecs, testing
from praxis.core.hookdocs import hook_names


def example_of(hook: str) -> str:
    """The indented block after ``Example::`` in the hook's docstring."""
    doc = inspect.cleandoc(getattr(hookspecs, hook).__doc__ or "")
    block = []
    for line in doc.split("Example::", 1)[1].splitlines()[1:]:
        if line.strip() and not line.startswith(" "):
            break
        block.append(line)
    return textwrap.dedent("\n".join(block))


async def test_the_examples_together_are_a_plugin_that_passes_the_kit() -> None:
    plugin_module = types.ModuleType("praxis_hook_examples")
    vars(plugin_module).update({name: getattr(hookspecs, name) for name in hookspecs.__all__})
    for hook in hook_names():
        exec(compile(example_of(hook), f"<example of {hook}>", "exec"), vars(plugin_module))
    texts: dict[str, str] = {}

    def example_sms(request: httpx.Request) -> httpx.Response:
        key = request.headers["idempotency-key"]  # a repeat is answered with the first text
        return httpx.Response(200, json={"id": texts.setdefault(key, f"text-{len(texts) + 1}")})

    plugin = testing.load(plugin_module)
    assert plugin.manifest.name == "sms_example"
    async with httpx.AsyncClient(transport=httpx.MockTransport(example_sms)) as http:
        provider = testing.provider(plugin, {}, http=http)
        assert await testing.behaviour(plugin, provider) == []
    assert list(texts.values()) == ["text-1"]  # the kit's retry sent nothing twice
