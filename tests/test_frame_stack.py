"""The roomy frame stack (attendnc/frame_stack.py): requests never run across a chunk's edge.

Counted in minor page faults, not timed: CPython 3.11 maps a fresh chunk (a new page to fault
in) every time a call crosses the edge, so a loop at the edge faults once per call.
"""

import resource

import pytest
from django.conf import settings
from django.test import RequestFactory

from attendnc.frame_stack import RoomyFrameStackMiddleware, call_with_room

CALLS = 2_000


def _nested(depth: int, then):
    return _nested(depth - 1, then) if depth else then()


def _leaf() -> int:
    return 1


def _loop() -> int:
    return sum(_leaf() for _ in range(CALLS))


def _faults_at(depth: int) -> int:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    _nested(depth, _loop)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def _edge_depth() -> int | None:
    """The first depth below the caller at which a call crosses into a new chunk, if any."""
    for depth in range(400):
        # Twice, so a fault burst of the process's own heap growing is not taken for the edge.
        if _faults_at(depth) >= CALLS // 2 and _faults_at(depth) >= CALLS // 2:
            return depth
    return None


def test_it_is_the_first_middleware():
    assert settings.MIDDLEWARE[0] == "attendnc.frame_stack.RoomyFrameStackMiddleware"


def test_a_loop_at_a_chunk_edge_stops_faulting_inside_the_room():
    depth = _edge_depth()
    if depth is None:
        pytest.skip("this interpreter keeps a spare frame-stack chunk (CPython 3.13.x or later)")
    faults = call_with_room(_faults_at, depth)
    assert faults < CALLS // 20


def test_the_response_and_errors_pass_through():
    request = RequestFactory().get("/")
    assert RoomyFrameStackMiddleware(lambda seen: ("ok", seen))(request) == ("ok", request)

    def refuse(_request):
        raise PermissionError("no")

    with pytest.raises(PermissionError):
        RoomyFrameStackMiddleware(refuse)(request)
