"""The eval cases, parsed once per test session for every module that parametrizes over them.

Parsing the case YAML is the largest share of test collection after the imports, and both
tests/test_eval_cases.py and tests/test_eval_gate.py need the whole list at import time.
"""

from evals.cases import Case, load_cases
from evals.run import CASES_DIR

CASES: list[Case] = load_cases([CASES_DIR]) if any(CASES_DIR.glob("*.yaml")) else []
