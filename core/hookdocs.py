"""docs/hooks.md, generated from the docstrings in core/hookspecs.py."""

from __future__ import annotations

import inspect

from praxis.core import hookspecs

HEADER = """# Hook reference

Generated from `core/hookspecs.py` by `praxis plugins docs`; do not edit by hand.
A test fails when a hook has no documentation or this file is out of date.

"""


def hook_names() -> list[str]:
    return sorted(
        name
        for name, value in vars(hookspecs).items()
        if callable(value) and hasattr(value, "praxis_spec")
    )


def hook_reference() -> str:
    parts = [HEADER]
    for name in hook_names():
        function = getattr(hookspecs, name)
        signature = inspect.signature(function)
        doc = inspect.cleandoc(function.__doc__ or "")
        parts.append(f"## `{name}{str(signature).replace(chr(39), '')}`\n\n{doc}\n\n")
    return "".join(parts).rstrip() + "\n"
