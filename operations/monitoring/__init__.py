"""Monitoring without personal data: the health endpoint, Prometheus metrics and e-mail alerts.

Apps declare their own metrics and alert sources in a `monitoring.py` module next to their models
(see `registry`); this package collects them, so `tenants` never imports a tenant app.
"""
