"""The prompt files (*.md) the agent loads through app.agent.prompts; shipped as package data."""
