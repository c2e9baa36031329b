"""Portal pages of this app (see portal/navigation.py for the screen list)."""

urlpatterns = []
