"""The admin side: the team's availability rules, queues and members as the CLI and the portal
set them (``rules``), portal accounts — passwords, sessions, sign-in throttling, invitations —
(``accounts``), and the dashboard's numbers (``stats``). None of it is on the chat path."""
