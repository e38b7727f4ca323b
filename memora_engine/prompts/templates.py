"""Prompt templates, in our own words. Override any of them through :class:`Prompts`.

Templates use ``str.format`` fields; every field a template needs is listed in its docstring.
"""

from __future__ import annotations

__all__ = [
    "COMPARISON_INPUT",
    "COMPARISON_SYSTEM",
    "EXTRACTION_FINAL_TURN",
    "EXTRACTION_MESSAGE_BLOCK",
    "EXTRACTION_SYSTEM",
    "EXTRACTION_UPDATE_SECTION",
    "FILTER_SYSTEM",
    "QUERY_GENERATION_INPUT",
    "QUERY_GENERATION_SYSTEM",
]

EXTRACTION_SYSTEM = """\
You keep the long-term memory of an assistant. Today is {weekday}, {now}.
Below is a conversation between the assistant ({agent_label}) and the user ({user_name}).

Goal: write down the facts about the user{and_agent} that would help personalise future \
conversations: who they are, the people and pets in their life, preferences, plans, health, \
work, important events and dates. Leave out small talk and anything that will not matter later. \
Never invent or guess.

Rules for each memory:
- One self-contained fact of at most 25 words that reads well on its own months later.
- Use the right tense, and turn relative dates ("next Friday") into absolute ones using today's date.
- Write #user_#id# wherever you would write the user's name, and #agent_#id# for the assistant's \
name. Never write their actual names.
- List the MESSAGE BLOCK IDs the fact comes from in msg_source_ids.
- Use memories_first_pass for the facts; use the second and third passes only for facts you \
missed before. Do not repeat a fact.
{update_section}
Answer with JSON that follows this schema:
{schema}

The conversation follows, one message block at a time."""
"""Fields: weekday, now, agent_label, user_name, and_agent, update_section, schema."""

EXTRACTION_UPDATE_SECTION = """
This conversation was processed before. These memories were already taken from it:
{previous_memories}
Extract ONLY what is new compared with them, including anything that changes or contradicts \
them. If nothing is new, return empty lists.
"""
"""Fields: previous_memories."""

EXTRACTION_MESSAGE_BLOCK = """MESSAGE BLOCK ID: {position}
--------
{content}"""
"""Fields: position, content."""

EXTRACTION_FINAL_TURN = """(End of the conversation.) Now write the JSON object with the \
memories, following the schema in the instructions."""
"""No fields. Sent as a last user turn when the conversation ends with the assistant, so the
model answers the extraction task instead of continuing the conversation (and strict
user/assistant chat templates see a user turn last)."""

COMPARISON_SYSTEM = """\
You maintain the memories an assistant keeps about a user. Today is {weekday}, {now}.
In every memory, {user_placeholder} stands for the user and {agent_placeholder} for the assistant.

You get the memories already stored (with their memory_id) and new candidate memories (with a \
POS_ID). For each candidate decide:
- new: it adds information none of the stored memories has -> put it in new_memories;
- contradicting: it changes or contradicts a stored memory (e.g. a moved address, a changed \
plan) -> put it in contrary_memories with the memory_id of the stored memory it replaces;
- redundant: a stored memory already says it -> leave it out.
Keep the candidate's wording (you may merge in details from the memory it replaces), keep the \
{user_placeholder} / {agent_placeholder} placeholders, and give its POS_ID as \
source_candidate_pos_id. Use only memory_id values from the stored memories shown.

Answer with JSON that follows this schema, and nothing else:
{schema}"""
"""Fields: weekday, now, user_placeholder, agent_placeholder, schema."""

COMPARISON_INPUT = """STORED MEMORIES:
{existing_memories}

NEW CANDIDATE MEMORIES:
{candidates}"""
"""Fields: existing_memories, candidates."""

QUERY_GENERATION_SYSTEM = """\
You look up an assistant's long-term memory about a user before the assistant answers.
Given the user's latest message (and earlier messages for context), write the search queries that \
would find every stored memory the assistant needs to answer well: the people, things, places, \
events, preferences and relationships the message involves, directly or indirectly.
Write 2 to 6 short queries, each about ONE thing, in the words a memory would use:
- Split a question that combines facts into one query per fact (for "Did my sister's new job \
change her move?" ask about the sister's job and about the sister's move separately).
- Name people and things instead of pronouns, using the earlier messages.
- For a question about when something happened or about a period ("last week", "in May"), \
write a query about the event itself and one that keeps the time words with the date they mean \
(relative to the date of the latest message), e.g. "trip in May 2024".
- Add a query for related background that could matter (plans, preferences, earlier events).
Write each query on its own line between double angle brackets, like:
<< first query >>
<< second query >>
Write only the queries, no explanations."""

QUERY_GENERATION_INPUT = """EARLIER MESSAGES (context):
{preceding_messages}

LATEST MESSAGE ({weekday}, {now}):
{message}"""
"""Fields: preceding_messages, weekday, now, message."""

FILTER_SYSTEM = """\
You decide which retrieved memories are relevant before an assistant answers.
Today is {weekday}, {now}. The user's latest message:
{message}

The memories were retrieved with these queries:
- {queries}

The retrieved memories follow as a list of {{memory_id, memory, obtained_at}}. For every memory \
that helps answer the latest message, write one line:
- <reason> || << memory_id >>
If none is relevant, write exactly: << NONE >>"""
"""Fields: weekday, now, message, queries."""
