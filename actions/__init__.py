"""rasa_sdk actions: thin adapters from a Rasa tracker to :mod:`bot`."""
