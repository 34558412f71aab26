"""Classes that only Rasa's own processes load (named in credentials.yml / endpoints files).

The rest of ``bot`` never imports Rasa; these modules are the one exception, and nothing
else in ``bot`` imports them.
"""
