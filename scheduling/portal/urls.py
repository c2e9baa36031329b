"""Portal pages of this app (see portal/navigation.py for the screen list)."""

from django.urls import path

from scheduling.portal.views import (
    appointment_book_view,
    appointment_cancel_view,
    appointment_detail,
    appointment_reschedule_view,
    appointments_week,
    free_times,
)

urlpatterns = [
    path("appointments/", appointments_week, name="portal-appointments"),
    path("appointments/book/", appointment_book_view, name="portal-appointment-book"),
    path("appointments/free-times/", free_times, name="portal-appointment-free-times"),
    path("appointments/<int:pk>/", appointment_detail, name="portal-appointment-detail"),
    path("appointments/<int:pk>/cancel/", appointment_cancel_view, name="portal-appointment-cancel"),
    path("appointments/<int:pk>/reschedule/", appointment_reschedule_view, name="portal-appointment-reschedule"),
]
