"""Chat channels for the intranet.

* :mod:`bot.channels.identity` (no Rasa imports): verifies the intranet's
  signed token (JWT) and derives the pseudonymous conversation id; also
  issues dev tokens (``mandat token``).
* :mod:`bot.channels.widget`: the Rasa input channel of the chat widget
  (socket.io), configured in ``credentials.yml``. Like ``bot.nlu`` it is a
  Rasa adapter, the only other place in ``bot`` that imports Rasa.
"""
