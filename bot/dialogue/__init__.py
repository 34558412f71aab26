"""What the Rasa actions need to hold a conversation, apart from the booking itself: the
visitor's widget metadata and form answers, checked field by field (``visitor``). Conversation
understanding that is ours, not Rasa's, belongs here too. Nothing here imports Rasa."""
