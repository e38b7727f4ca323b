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
from memora_engine.llm.base import BaseBackendLLM
from memora_engine.llm.chat_model import ChatModelLLM, StructuredOutputMode

__all__ = [
    "AzureOpenAIBackendLLM",
    "GroqBackendLLM",
    "OpenAIBackendLLM",
    "TogetherBackendLLM",
    "as_backend_llm",
    "llm_from_environment",
]


def _chat_class(module: str, name: str, extra: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        raise ConfigurationError(
            f'{name} needs the {module} package: pip install "memora[{extra}]"'
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
        init_chat_model = _chat_class("langchain.chat_models", "init_chat_model", "langchain")
        try:
            chat = init_chat_model(model)
        except ImportError as exc:
            raise ConfigurationError(
                f"Model {model!r} needs its LangChain provider package: {exc}"
            ) from exc
        except ValueError as exc:
            raise ConfigurationError(f"Cannot build a chat model from {model!r}: {exc}") from exc
        return ChatModelLLM(chat, structured_output=structured_output)
    raise InvalidInputError(
        "A model must be a BaseBackendLLM, a LangChain BaseChatModel or a string like "
        f"'groq:llama-3.1-8b-instant'; got {type(model).__name__}."
    )


def llm_from_environment(env: Mapping[str, str] | None = None) -> BaseBackendLLM | None:
    """Build an LLM from the environment, or return ``None`` when no provider is configured.

    Order: ``MEMORA_LLM_MODEL`` (an ``init_chat_model`` string), ``OPENAI_API_KEY``,
    ``AZURE_OPENAI_API_KEY`` + ``AZURE_OPENAI_ENDPOINT`` + ``AZURE_OPENAI_DEPLOYMENT``,
    ``GROQ_API_KEY``, ``TOGETHER_API_KEY``.
    """
    values = os.environ if env is None else env
    if values.get("MEMORA_LLM_MODEL"):
        return as_backend_llm(values["MEMORA_LLM_MODEL"])
    if values.get("OPENAI_API_KEY"):
        return OpenAIBackendLLM(api_key=values["OPENAI_API_KEY"])
    azure = ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_DEPLOYMENT")
    if all(values.get(k) for k in azure):
        return AzureOpenAIBackendLLM(
            azure_deployment=values["AZURE_OPENAI_DEPLOYMENT"],
            azure_endpoint=values["AZURE_OPENAI_ENDPOINT"],
            api_key=values["AZURE_OPENAI_API_KEY"],
            api_version=values.get("OPENAI_API_VERSION"),
        )
    if values.get("GROQ_API_KEY"):
        return GroqBackendLLM(api_key=values["GROQ_API_KEY"])
    if values.get("TOGETHER_API_KEY"):
        return TogetherBackendLLM(api_key=values["TOGETHER_API_KEY"])
    return None
