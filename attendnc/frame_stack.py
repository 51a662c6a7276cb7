"""Run each request at the start of a roomy chunk of CPython's frame stack.

CPython 3.11 keeps Python frames in chunks of 16 KiB and unmaps a chunk the moment the call
that opened it returns. A loop running right at a chunk's edge therefore pays an mmap and a
munmap on every call: Django's template engine recurses up and down for every node, so a page
whose render sits across an edge spends as long in the kernel as in Python (the huddle page:
32 ms of system time beside 30 ms of its own per render, 2026-12-01; bench/README.md). Where the
edge falls depends only on how deep the request starts, so any page can land on it after an
unrelated change. CPython 3.13.x and 3.14 keep one spare chunk (python/cpython#142183); until the
project moves past 3.11, every request starts on a frame too large for the current chunk, which
makes CPython open a fresh chunk with room for the whole request's stack above it.
"""

from collections.abc import Callable
from typing import Any

# A frame of this many local slots (8 bytes each) opens a 128 KiB chunk and leaves about 56 KiB
# above it, several times the deepest stack a page render reaches.
ROOM_SLOTS = 9_000


def _roomy_caller() -> Callable[[Callable[[Any], Any], Any], Any]:
    # The local names are never assigned at run time: they only size the frame.
    names = ", ".join(f"_slot{i}" for i in range(ROOM_SLOTS))
    source = (
        "def call_with_room(call, argument):\n"
        "    if call is None:\n"
        f"        {names} = range({ROOM_SLOTS})\n"
        "    return call(argument)\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, __file__, "exec"), namespace)  # noqa: S102 - fixed source built above
    return namespace["call_with_room"]


call_with_room = _roomy_caller()


class RoomyFrameStackMiddleware:
    """First in MIDDLEWARE, so everything after it (views, templates) runs in the roomy chunk."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return call_with_room(self.get_response, request)
