"""Where stored files go (Django's STORAGES): an S3 bucket through django-storages when a bucket is
named, the local disk under MEDIA_ROOT otherwise (the embedded default). Every file is encrypted
with its company's key before it reaches either (tenants/files.py), so the bucket holds ciphertext
only. Used by the settings and by the tests' S3 server fixture, so both build the same backend."""

from __future__ import annotations

STATICFILES = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


def local_storages() -> dict:
    return {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}, "staticfiles": STATICFILES}


def s3_storages(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    access_key: str = "",
    secret_key: str = "",
    location: str = "",
    addressing_style: str = "",
    server_side_encryption: str = "",
    timeout_seconds: float = 10.0,
) -> dict:
    """The S3 backend for `bucket`. Empty credentials leave boto3 to its own chain (instance role,
    AWS_* variables, ~/.aws); an empty endpoint is AWS itself."""
    from botocore.config import Config

    options: dict = {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "region_name": region or None,
        "access_key": access_key or None,
        "secret_key": secret_key or None,
        "location": location.strip("/"),
        # Objects are private: what the bucket policy allows, never a public ACL.
        "default_acl": None,
        # A name is never reused for other bytes: a restore or a rotation writes beside, not over.
        "file_overwrite": False,
        # Files are only read through the application (decrypted there); no signed URLs are handed out.
        "querystring_auth": True,
        "object_parameters": {"ContentType": "application/octet-stream"},
        # Bounded in time: a bucket that does not answer is an error after a few seconds, not a hang.
        "client_config": Config(
            connect_timeout=timeout_seconds,
            read_timeout=timeout_seconds,
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": addressing_style or None},
            signature_version="s3v4",
        ),
    }
    if server_side_encryption:
        # On top of ours: the provider's at-rest encryption (AES256 or aws:kms).
        options["object_parameters"]["ServerSideEncryption"] = server_side_encryption
    return {"default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}, "staticfiles": STATICFILES}
