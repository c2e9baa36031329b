"""Writes on the answering desk, one module per workflow, in the style of Zulip's `zerver/actions`:

- `lines`: answering lines;
- `calls`: answering a call at the desk (a message taken, or a quick disposition);
- `messages`: taking a message, marking its delivery state, acknowledging it;
- `delivery`: delivering a message by its routes and webhooks, with retries and the dead letter;
- `escalation`: escalating an unacknowledged urgent message along the on-call rota.

Every service is keyword-only, atomic, writes under `tenants.changelog.change_log_actor` so the change log names
who did it (nobody, for the workers' own writes), and writes its side effects as outbox rows in
the same transaction (`operations/outbox/`), relayed to Celery once it commits. The Celery
tasks in `answering/tasks.py` are thin wrappers that pass ids to the services here.
"""
