"""The single gate every statement passes before it reaches a warehouse."""
