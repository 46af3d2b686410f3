"""Collection rules for the whole repository (the tests' fixtures are in tests/conftest.py)."""

import importlib.util

try:
    _HAS_SPACY = importlib.util.find_spec("spacy") is not None
except (ImportError, ValueError):
    _HAS_SPACY = False

# propdetect/_spacy.py is the spaCy component (the `spacy` extra): without spaCy its
# doctests cannot even be imported; tests/test_spacy.py skips, saying why.
collect_ignore = [] if _HAS_SPACY else ["propdetect/_spacy.py"]
