"""The semantic model (metrics, dimensions, joins, vocabulary) and the warehouse catalog."""
