"""Memora's LLM layer: one implementation over LangChain chat models, plus provider shortcuts."""

from memora_engine.llm.base import BaseBackendLLM, LLMUsage, parse_json_output
from memora_engine.llm.chat_model import ChatModelLLM, StructuredOutputMode, to_langchain_messages
from memora_engine.llm.providers import (
    AzureOpenAIBackendLLM,
    GroqBackendLLM,
    OpenAIBackendLLM,
    TogetherBackendLLM,
    as_backend_llm,
    llm_from_environment,
    llm_from_settings,
)

__all__ = [
    "AzureOpenAIBackendLLM",
    "BaseBackendLLM",
    "ChatModelLLM",
    "GroqBackendLLM",
    "LLMUsage",
    "OpenAIBackendLLM",
    "StructuredOutputMode",
    "TogetherBackendLLM",
    "as_backend_llm",
    "llm_from_environment",
    "llm_from_settings",
    "parse_json_output",
    "to_langchain_messages",
]
