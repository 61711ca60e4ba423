"""Dialect fixes: Sigma/Trino input, Spark SQL output."""
