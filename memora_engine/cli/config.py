"""CLI settings: the engine's one settings object, :class:`memora_engine.settings.MemoraSettings`.

Flags, then ``MEMORA_*`` environment variables (and the providers' own ``OPENAI_API_KEY`` ...),
then the ``[memora]`` table of a TOML file (``--config FILE``, else ``$MEMORA_CONFIG``, else
``./memora.toml`` when it exists). Secrets are :class:`pydantic.SecretStr` and never printed.
"""

from __future__ import annotations

from memora_engine.settings import CONFIG_ENV, DEFAULT_CONFIG_FILE, MemoraSettings

__all__ = ["CONFIG_ENV", "DEFAULT_CONFIG_FILE", "Settings", "load_settings"]

#: The settings type the commands receive.
Settings = MemoraSettings
#: Merge flags > environment > config file > defaults (see :meth:`MemoraSettings.load`).
load_settings = MemoraSettings.load
