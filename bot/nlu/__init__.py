"""Danish language resources for Rasa's NLU pipeline (the only place in ``bot`` that may import Rasa)."""
