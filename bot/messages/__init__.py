"""Outgoing messages: token rendering, the confirmation e-mail with ICS, the outbox."""
