"""Builds the spaCy pipeline that Rasa's SpacyNLP and our retrieval load.

``config.yml`` points SpacyNLP at a fixed path (``var/spacy-da``); this module
writes a pipeline there: ``da_core_news_sm`` when that package is installed
(trained tagger, rule lemmatizer), otherwise ``spacy.blank("da")`` plus the
lemmatizer in lookup mode with the tables of spacy-lookups-data. Source:
spaCy 3.4 docs, "Lemmatizer" (https://spacy.io/api/lemmatizer), and Rasa 3.6
docs, "SpacyNLP" (the ``model`` option accepts a path).
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SOURCE_FILE = "mandat-source.json"


def available_source() -> str:
    """``da_core_news_sm`` if installed, else ``blank+lookup``."""
    return "da_core_news_sm" if importlib.util.find_spec("da_core_news_sm") else "blank+lookup"


def build(path: str | Path, source: str | None = None) -> str:
    """Write the pipeline to ``path`` unless one from the same source is there.

    Args:
        path: target folder.
        source: ``da_core_news_sm`` or ``blank+lookup`` (default: :func:`available_source`).

    Returns:
        A Danish line saying what is at ``path``.
    """
    import spacy

    path = Path(path)
    source = source or available_source()
    marker = path / SOURCE_FILE
    if marker.exists() and json.loads(marker.read_text()).get("source") == source:
        return f"spaCy-pipeline ({source}) findes allerede i {path}."
    if source == "da_core_news_sm":
        nlp = spacy.load("da_core_news_sm")
    else:
        nlp = spacy.blank("da")
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    nlp.meta["name"] = "mandat_" + source.replace("+", "_")
    path.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(path)
    marker.write_text(json.dumps({"source": source}))
    return f"spaCy-pipeline ({source}) gemt i {path}."
