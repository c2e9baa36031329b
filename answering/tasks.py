from celery import shared_task
from django.db import connection

from answering.selectors import line_list


@shared_task(name="answering.schema_probe")
def schema_probe() -> dict:
    """Report which schema a worker ran this task in, and which lines it sees there.

    Used by the operator (and the test suite) to prove that a task runs in the tenant it was sent
    from.
    """
    return {"schema": connection.schema_name, "lines": [line.phone_number for line in line_list()]}
