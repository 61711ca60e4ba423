"""The LLM agent: the only importer of LangChain (in loop.py), prompts, tokens, context."""
