"""The ``gradcore`` entry points installed distributions declare, read one distribution at a time.

Read per distribution rather than through ``importlib.metadata.entry_points()``, which raises
for every plugin at once when one distribution's entry_points.txt is malformed; here only that
distribution fails, and discovery lists it (gradcore/plugin/discovery.py, docs/plugins.md).
"""

import importlib.metadata
import os
import re
from dataclasses import dataclass

PROJECT = "gradcore"
ENV_VAR = "GRADCORE_BACKEND"
PLUGINS_ENV_VAR = "GRADCORE_PLUGINS"


@dataclass(eq=False)  # compared by identity: two distributions may use the same entry-point name
class PluginEntryPoint:
    """A ``gradcore`` entry point and the distribution that declares it."""

    entry_point: importlib.metadata.EntryPoint
    origin: str

    @property
    def name(self):
        return self.entry_point.name

    def label(self):
        return f"{self.name} ({self.origin})"


def plugin_distributions():
    """(distribution, its gradcore entry points) for each distribution declaring some, each once.

    Instead of the entry points, the exception reading them where a distribution's
    entry_points.txt declares the group but cannot be parsed: importlib.metadata.entry_points()
    would raise for every plugin at once.
    """
    seen = set()
    for dist in importlib.metadata.distributions():
        entry_points = _gradcore_entry_points(dist)
        if not entry_points:  # most distributions: their METADATA is not even read
            continue
        name = _canonical_name(dist)
        if name not in seen:  # found twice on sys.path: the first is the one Python imports
            seen.add(name)
            yield dist, entry_points


def _gradcore_entry_points(dist):
    try:
        return list(dist.entry_points.select(group=PROJECT))
    except Exception as exc:  # noqa: BLE001 - malformed metadata, reported if it concerns gradcore
        declares_group = f"[{PROJECT}]" in (dist.read_text("entry_points.txt") or "")
        return exc if declares_group else []


def _canonical_name(dist):
    name = dist.name
    return re.sub(r"[-_.]+", "-", name).lower() if name else id(dist)


def distribution_name(dist):
    return dist.name or "unnamed distribution"


def origin_of(dist):
    return f"{distribution_name(dist)} {dist.version or 'unknown version'}"


def explicitly_named():
    """With autoload off, the entry points to load: those in GRADCORE_PLUGINS, and GRADCORE_BACKEND's."""
    names = {name.strip() for name in os.environ.get(PLUGINS_ENV_VAR, "").split(",")}
    names.add(os.environ.get(ENV_VAR, "").strip())
    return names - {""}
