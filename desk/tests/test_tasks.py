"""Who runs the desk's periodic pass: beat's task with a Redis layer; the web process itself with
the in-memory layer (a worker's pushes would reach no console there)."""

from __future__ import annotations

import pytest

from desk.tasks import desk_tick_task
from desk.ticker import ticker_start


@pytest.mark.django_db
def test_beat_runs_the_pass_on_a_shared_layer(settings):
    settings.CHANNEL_LAYER_URL = "redis://127.0.0.1:6379/7"
    settings.DESK_TICK_IN_WEB = False
    assert set(desk_tick_task()) == {"offline", "expired", "overflowed", "offered"}


@pytest.mark.parametrize(("url", "in_web"), [("", False), ("redis://127.0.0.1:6379/7", True)])
def test_beat_stands_aside_where_the_web_process_runs_it(settings, url, in_web):
    settings.CHANNEL_LAYER_URL = url
    settings.DESK_TICK_IN_WEB = in_web
    assert desk_tick_task() is None


def test_the_web_process_starts_no_pass_unless_asked(settings):
    settings.DESK_TICK_IN_WEB = False
    assert ticker_start() is False
