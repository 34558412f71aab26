"""Meeting booking in website chat: the core, importable without side effects.

Nothing here imports Rasa; ``actions`` (the Rasa SDK glue) depends on ``bot``, never the
other way round.
"""

__version__ = "0.1.0"
