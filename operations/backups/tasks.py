from celery import shared_task

from tenants.files import encrypted_file_delete


@shared_task(name="backups.erased_files_delete", acks_late=True)
def erased_files_delete_task(*names: str) -> int:
    """Delete the files of erased rows (operations.backups.erasures.erased_files_delete). Deleting
    one already gone changes nothing, so a redelivery is harmless; a storage that does not answer
    fails the task, and the outbox hands it again."""
    for name in names:
        encrypted_file_delete(name)
    return len(names)
