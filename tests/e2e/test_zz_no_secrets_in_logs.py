"""Promise 6 (exposure): no secret or token ever appears in a log.

Runs after the other end-to-end tests (file order), which connected Google and Microsoft
calendars, refreshed tokens and booked through both: every credential the fake providers
handed out, their client secrets and our own secret key are looked for in the logs of all three
processes."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_no_secret_appears_in_any_log(stack, var_dir, google, microsoft):
    secrets = google.issued_secrets() | microsoft.issued_secrets()
    # The flows ran: codes were exchanged and refresh tokens issued by both providers.
    assert len(google._refresh) >= 1 and len(microsoft._refresh) >= 1, "run the whole e2e suite"
    key_file = var_dir / "secret.key"
    assert key_file.exists()
    secrets.add(key_file.read_text().strip())
    secrets = {s for s in secrets if s and len(s) >= 12}
    logs = sorted((var_dir / "logs").glob("*.log"))
    assert {p.stem for p in logs} >= {"rasa", "actions", "web"}
    text = "\n".join(p.read_text(errors="replace") for p in logs)
    assert len(text) > 1000  # the logs are there and not empty
    leaked = sorted(s[:6] + "…" for s in secrets if s in text)
    assert not leaked, f"secrets found in the logs: {leaked}"
