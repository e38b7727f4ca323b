"""Drop-in Memora adapters for LangChain, LangGraph and LlamaIndex.

Import the sub-package you need: ``memora_integrations.langchain``,
``memora_integrations.langgraph`` or ``memora_integrations.llama_index``.
"""
