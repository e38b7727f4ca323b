"""Memora's LLM layer: one implementation over LangChain chat models, plus provider shortcuts."""

from memora_engine.llm.base import BaseBackendLLM, LLMUsage, parse_json_output
from memora_engine.llm.chat_model import (
    ChatModelLLM,
    StructuredOutputMode,
    resolve_structured_method,
    to_langchain_messages,
)
from memora_engine.llm.providers import (
    AzureOpenAIBackendLLM,
    GroqBackendLLM,
    OpenAIBackendLLM,
    TogetherBackendLLM,
    as_backend_llm,
    llm_from_environment,
    llm_from_settings,
)
from memora_engine.llm.retry import CallBudget, StructuredAttempt, generate_validated

__all__ = [
    "AzureOpenAIBackendLLM",
    "BaseBackendLLM",
    "CallBudget",
    "ChatModelLLM",
    "GroqBackendLLM",
    "LLMUsage",
    "OpenAIBackendLLM",
    "StructuredAttempt",
    "StructuredOutputMode",
    "TogetherBackendLLM",
    "as_backend_llm",
    "generate_validated",
    "llm_from_environment",
    "llm_from_settings",
    "parse_json_output",
    "resolve_structured_method",
    "to_langchain_messages",
]
