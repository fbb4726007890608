"""The platform's side of plugins: finding and loading them (``loader``), building a tenant's
provider from its settings (``registry``, ``settings``) and the facade that alone calls one,
recording every disclosure (``facade``). What plugins themselves import is
``praxis.core.hookspecs`` and ``praxis.core.providers``."""

from praxis.core.plugins.loader import ENTRY_POINT_GROUP, PluginError, Plugins, load_plugins

__all__ = ["ENTRY_POINT_GROUP", "PluginError", "Plugins", "load_plugins"]
