"""rasa_sdk actions: thin adapters from a Rasa tracker to :mod:`bot`.

``rasa run actions`` imports this package and every module in it
(rasa_sdk's ``ActionExecutor.register_package`` imports submodules
recursively), so ``actions.actions`` and ``actions.privacy_actions`` are both
registered. rasa_sdk has no start-up hook, so the action server's log
redaction is installed here, on import (:func:`bot.privacy.install_log_redaction`).
"""
from bot.privacy import install_log_redaction

install_log_redaction()
