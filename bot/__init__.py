"""Mandatbot domain core: catalogue, retrieval, Danish language handling, answers.

Nothing in this package imports Rasa, except :mod:`bot.nlu` (Rasa components).
"""
