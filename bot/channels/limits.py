"""The length cap every channel applies before the NLU (issue 14, "Limits and linear time").

A message longer than ``MANDAT_MAX_MESSAGE_CHARS`` characters
(:attr:`bot.config.Settings.max_message_chars`) never reaches Rasa's NLU: the
channel answers :func:`too_long_text` instead, which says how long the message
is, what the cap is and why. Nothing of a refused message is stored.

No Rasa imports here, so the REST and the widget channel and their tests share it.
"""
from __future__ import annotations

from typing import Optional


def danish_number(value: int) -> str:
    """``value`` with Danish thousands separators: 20000 -> ``"20.000"``."""
    return f"{value:,}".replace(",", ".")


def too_long_text(length: int, cap: int) -> str:
    """The Danish reply to a message of ``length`` characters over the cap of ``cap`` characters."""
    return (f"Din besked er på {danish_number(length)} tegn. Jeg kan læse op til {danish_number(cap)} tegn "
            "ad gangen, så jeg kan svare alle hurtigt. Skriv gerne spørgsmålet kortere.")


def over_cap(text: str, cap: int) -> Optional[str]:
    """The Danish refusal when ``text`` is longer than ``cap`` characters, else None.

    Args:
        text: the user's message.
        cap: the longest message read, in characters (>= 1).
    """
    return too_long_text(len(text), cap) if len(text) > cap else None
