"""Models of this app arrive with its issue; the app and its schema place exist from the foundation."""
