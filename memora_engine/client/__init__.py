"""``MemoraClient`` and ``SyncMemoraClient``: the ``Memora`` API against ``memora serve``.

Examples:
    >>> from memora_engine.client import MemoraClient
    >>> memora = MemoraClient("http://127.0.0.1:8765", api_key="mem_...")
"""

from memora_engine.client.core import API_KEY_ENV, DEFAULT_URL, URL_ENV, MemoraClient
from memora_engine.client.sync import SyncMemoraClient

__all__ = ["API_KEY_ENV", "DEFAULT_URL", "URL_ENV", "MemoraClient", "SyncMemoraClient"]
