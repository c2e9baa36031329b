"""The one enforcement layer: the tenant, object and field gates of DESIGN.md.

Every channel (admin, API, portal, exports, tasks, commands) reaches tenant data through here.
"""
