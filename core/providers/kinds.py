"""Every kind of provider, from the one description each kind's module gives (``KIND``)."""

from __future__ import annotations

import typing

from praxis.core.providers import email, payments, questionnaires, sms, video
from praxis.core.providers.common import Kind, Operation, PluginKind

KINDS: dict[PluginKind, Kind] = {
    kind.name: kind
    for kind in (video.KIND, payments.KIND, sms.KIND, email.KIND, questionnaires.KIND)
}
if tuple(KINDS) != typing.get_args(PluginKind):  # the Literal types the same names, in order
    raise RuntimeError("PluginKind and KINDS name different kinds")


def operation(kind: PluginKind, name: str) -> Operation[object, object] | None:
    """The kind's operation of that name, if there is one."""
    return next((op for op in KINDS[kind].operations if op.name == name), None)
