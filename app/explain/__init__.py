"""Prose checked against the result, and the number formatting people see."""
