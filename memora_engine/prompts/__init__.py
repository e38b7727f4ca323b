"""Prompt templates (overridable) and the pure builders that fill them."""

from memora_engine.prompts.builders import (
    ChatMessage,
    Prompts,
    build_comparison_messages,
    build_extraction_messages,
    build_filter_messages,
    build_query_generation_messages,
    parse_angle_items,
    parse_query_list,
)

__all__ = [
    "ChatMessage",
    "Prompts",
    "build_comparison_messages",
    "build_extraction_messages",
    "build_filter_messages",
    "build_query_generation_messages",
    "parse_angle_items",
    "parse_query_list",
]
