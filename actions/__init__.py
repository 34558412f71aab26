"""Rasa SDK actions: one module per action, thin glue around ``bot``.

rasa-sdk registers every ``Action`` subclass found in this package; ``common`` holds helpers
only, no actions.
"""
