"""Date and time formats, per language (`FORMAT_MODULE_PATH`): every screen shows a time one way,
the admin included. Django's own formats fill in whatever these modules leave out."""
