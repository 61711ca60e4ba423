"""One question through the stages: understand → compile → guard → run → explain."""
