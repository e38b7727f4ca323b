"""The distribution name on PyPI and install hints built from it (one place for both).

Import names stay ``memora_engine`` / ``memora_integrations``; only ``pip install`` uses
:data:`DISTRIBUTION`.

Examples:
    >>> install_hint("neo4j")
    'pip install "memora-engine[neo4j]"'
"""

from __future__ import annotations

from importlib import metadata

__all__ = ["DISTRIBUTION", "install_hint", "installed_version"]

#: The name to ``pip install`` (``memora`` on PyPI is an unrelated package).
DISTRIBUTION = "memora-engine"


def install_hint(extra: str | None = None) -> str:
    """The ``pip install`` command for the package, or for one of its extras."""
    target = f"{DISTRIBUTION}[{extra}]" if extra else DISTRIBUTION
    return f'pip install "{target}"'


def installed_version() -> str:
    """The installed distribution's version (``0+unknown`` when run from a bare checkout)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"
