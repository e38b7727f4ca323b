"""Convenience constructors with the original Memora names, and model resolution helpers.

Every class here is a :class:`~memora_engine.llm.chat_model.ChatModelLLM` over the provider's
LangChain package (an optional extra). No hand-written HTTP clients.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel

from memora_engine.errors import ConfigurationError, InvalidInputError
from memora_engine.install import install_hint
from memora_engine.llm.base import BaseBackendLLM
from memora_engine.llm.chat_model import ChatModelLLM, StructuredOutputMode
from memora_engine.settings import MemoraSettings

__all__ = [
    "AzureOpenAIBackendLLM",
    "GroqBackendLLM",
    "OpenAIBackendLLM",
    "TogetherBackendLLM",
    "as_backend_llm",
    "llm_from_environment",
    "llm_from_settings",
    "require_provider_key",
]

#: API-key variable of the providers ``init_chat_model`` strings name most often.
PROVIDER_KEYS: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "azure_openai": "AZURE_OPENAI_API_KEY",
    "groq": "GROQ_API_KEY",
    "together": "TOGETHER_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "mistralai": "MISTRAL_API_KEY",
    "fireworks": "FIREWORKS_API_KEY",
    "google_genai": "GOOGLE_API_KEY",
    "cohere": "COHERE_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "xai": "XAI_API_KEY",
}


def _chat_class(module: str, name: str, extra: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        raise ConfigurationError(
            f"{name} needs the {module} package: {install_hint(extra)}"
        ) from None


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class OpenAIBackendLLM(ChatModelLLM):
    """OpenAI through ``langchain-openai`` (extra ``openai``); native structured output.

    Examples:
        >>> llm = OpenAIBackendLLM(api_key="sk-...", model="gpt-4o-mini")  # doctest: +SKIP
    """

    def __init__(
        self,
        api_key: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        model: str = "gpt-4o-mini",
        temperature: float = 0.2,
        top_p: float = 1.0,
        max_tokens: int = 4096,
        max_retries: int = 3,
        **chat_kwargs: Any,
    ) -> None:
        chat_openai = _chat_class("langchain_openai", "ChatOpenAI", "openai")
        extra_headers = {"OpenAI-Project": project} if project else None
        chat = chat_openai(
            **_drop_none(
                {
                    "api_key": api_key,
                    "organization": organization,
                    "default_headers": extra_headers,
                    "model": model,
                    "temperature": temperature,
                    "top_p": top_p,
                    "max_tokens": max_tokens,
                    "max_retries": max_retries,
                }
            ),
            **chat_kwargs,
        )
        super().__init__(chat, structured_output="native")


class AzureOpenAIBackendLLM(ChatModelLLM):
    """Azure OpenAI through ``langchain-openai`` (extra ``openai``).

    Settings fall back to ``AZURE_OPENAI_API_KEY`` / ``AZURE_OPENAI_ENDPOINT`` /
    ``OPENAI_API_VERSION`` as ``AzureChatOpenAI`` reads them.
    """

    def __init__(
        self,
        azure_deployment: str,
        azure_endpoint: str | None = None,
        api_key: str | None = None,
        api_version: str | None = None,
        temperature: float = 0.2,
        max_tokens: int = 4096,
        max_retries: int = 3,
        **chat_kwargs: Any,
    ) -> None:
        chat_azure = _chat_class("langchain_openai", "AzureChatOpenAI", "openai")
        chat = chat_azure(
            **_drop_none(
                {
                    "azure_deployment": azure_deployment,
                    "azure_endpoint": azure_endpoint,
                    "api_key": api_key,
                    "api_version": api_version,
                    "temperature": temperature,
                    "max_tokens": max_tokens,
                    "max_retries": max_retries,
                }
            ),
            **chat_kwargs,
        )
        super().__init__(chat, structured_output="native")


class _JsonModeProviderLLM(ChatModelLLM):
    """A provider reached through its LangChain chat class with an API key; the provider's JSON
    mode (``response_format={"type": "json_object"}``), validated against the schema."""

    _module: str
    _class_name: str
    _extra: str

    def __init__(
        self,
        api_key: str | None = None,
        model: str = "",
        temperature: float = 0.2,
        max_tokens: int = 4096,
        max_retries: int = 3,
        **chat_kwargs: Any,
    ) -> None:
        chat_class = _chat_class(self._module, self._class_name, self._extra)
        settings = {
            "api_key": api_key,
            "model": model,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "max_retries": max_retries,
        }
        super().__init__(
            chat_class(**_drop_none(settings), **chat_kwargs), structured_output="json_mode"
        )


class GroqBackendLLM(_JsonModeProviderLLM):
    """Groq through ``langchain-groq`` (extra ``groq``); JSON mode with validation.

    Examples:
        >>> llm = GroqBackendLLM(api_key="gsk_...", model="llama-3.1-8b-instant")  # doctest: +SKIP
    """

    _module, _class_name, _extra = "langchain_groq", "ChatGroq", "groq"

    def __init__(
        self, api_key: str | None = None, model: str = "llama-3.3-70b-versatile", **kwargs: Any
    ) -> None:
        super().__init__(api_key, model, **kwargs)


class TogetherBackendLLM(_JsonModeProviderLLM):
    """Together AI through ``langchain-together`` (extra ``together``); JSON mode."""

    _module, _class_name, _extra = "langchain_together", "ChatTogether", "together"

    def __init__(
        self,
        api_key: str | None = None,
        model: str = "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        **kwargs: Any,
    ) -> None:
        super().__init__(api_key, model, **kwargs)


def as_backend_llm(
    model: BaseBackendLLM | BaseChatModel | str | None,
    *,
    structured_output: StructuredOutputMode = "auto",
) -> BaseBackendLLM | None:
    """Accept a Memora LLM, a LangChain chat model, or an ``init_chat_model`` string.

    Examples:
        >>> as_backend_llm("groq:llama-3.1-8b-instant")  # doctest: +SKIP

    Raises:
        ConfigurationError: a model string needs ``langchain`` or a provider package.
        InvalidInputError: an object of another type.
    """
    if model is None or isinstance(model, BaseBackendLLM):
        return model
    if isinstance(model, BaseChatModel):
        return ChatModelLLM(model, structured_output=structured_output)
    if isinstance(model, str):
        return _from_string(model, structured_output)
    raise InvalidInputError(
        "A model must be a BaseBackendLLM, a LangChain BaseChatModel or a string like "
        f"'groq:llama-3.1-8b-instant'; got {type(model).__name__}."
    )


def require_provider_key(model: str, env: Mapping[str, str] | None = None) -> None:
    """Fail early when ``model`` names a provider whose API key is not set.

    Raises:
        ConfigurationError: naming the variable to set (e.g. ``OPENAI_API_KEY``).
    """
    values = os.environ if env is None else env
    provider, sep, _ = model.partition(":")
    if not sep:
        provider = "openai" if model.startswith(("gpt-", "o1", "o3", "o4")) else ""
    variable = PROVIDER_KEYS.get(provider.strip().lower())
    if variable is not None and not values.get(variable, "").strip():
        raise ConfigurationError(
            f"Model {model!r} needs an API key: set {variable} (e.g. export {variable}=...), "
            "or pick another model."
        )


def _from_string(
    model: str,
    structured_output: StructuredOutputMode,
    keys: Mapping[str, str] | None = None,
) -> BaseBackendLLM:
    """Build ``model`` with ``init_chat_model``; ``keys`` (variable -> value, e.g. from the
    config file) supply the provider's API key when the environment has none."""
    init_chat_model = _chat_class("langchain.chat_models", "init_chat_model", "langchain")
    available = {**(keys or {}), **{k: v for k, v in os.environ.items() if v.strip()}}
    require_provider_key(model, available)
    provider = model.partition(":")[0].strip().lower() if ":" in model else "openai"
    variable = PROVIDER_KEYS.get(provider)
    extra: dict[str, Any] = {}
    if variable and keys and variable in keys and not os.environ.get(variable, "").strip():
        extra["api_key"] = keys[variable]
    try:
        chat = init_chat_model(model, **extra)
    except ImportError as exc:
        raise ConfigurationError(
            f"Model {model!r} needs its LangChain provider package: {exc}"
        ) from exc
    except Exception as exc:  # providers raise their own types (openai.OpenAIError, ...)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigurationError(f"Cannot build a chat model from {model!r}: {detail}") from exc
    return ChatModelLLM(chat, structured_output=structured_output)


def _settings_keys(settings: MemoraSettings) -> dict[str, str]:
    """Provider API keys held by the settings, by their environment variable."""
    pairs = {
        "OPENAI_API_KEY": settings.openai_api_key,
        "AZURE_OPENAI_API_KEY": settings.azure_openai_api_key,
        "GROQ_API_KEY": settings.groq_api_key,
        "TOGETHER_API_KEY": settings.together_api_key,
    }
    return {k: v.get_secret_value() for k, v in pairs.items() if v is not None}


def llm_from_settings(settings: MemoraSettings) -> BaseBackendLLM | None:
    """Build the extraction LLM the settings name, or ``None`` when no provider is configured.

    Order: ``model`` (``MEMORA_LLM_MODEL``, an ``init_chat_model`` string), ``OPENAI_API_KEY``,
    ``AZURE_OPENAI_API_KEY`` + ``AZURE_OPENAI_ENDPOINT`` + ``AZURE_OPENAI_DEPLOYMENT``,
    ``GROQ_API_KEY``, ``TOGETHER_API_KEY``.

    Raises:
        ConfigurationError: the named model cannot be built (missing package or API key).
    """
    if settings.model:
        return _from_string(settings.model, "auto", _settings_keys(settings))
    if settings.openai_api_key is not None:
        return OpenAIBackendLLM(api_key=settings.openai_api_key.get_secret_value())
    azure_key = settings.azure_openai_api_key
    if (
        azure_key is not None
        and settings.azure_openai_endpoint
        and settings.azure_openai_deployment
    ):
        return AzureOpenAIBackendLLM(
            azure_deployment=settings.azure_openai_deployment,
            azure_endpoint=settings.azure_openai_endpoint,
            api_key=azure_key.get_secret_value(),
            api_version=settings.openai_api_version,
        )
    if settings.groq_api_key is not None:
        return GroqBackendLLM(api_key=settings.groq_api_key.get_secret_value())
    if settings.together_api_key is not None:
        return TogetherBackendLLM(api_key=settings.together_api_key.get_secret_value())
    return None


def llm_from_environment(env: Mapping[str, str] | None = None) -> BaseBackendLLM | None:
    """:func:`llm_from_settings` over the environment only (``env``, default ``os.environ``)."""
    return llm_from_settings(MemoraSettings.load(env=env, read_config_file=False))
