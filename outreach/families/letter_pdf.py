"""Laying out nudge letters as PDF: pure WeasyPrint and pypdf, no Django, so that chunks of a
large batch can be laid out in worker processes side by side (one a core).

A chunk is one HTML document holding many letters, laid out and written ONCE (one CSS
cascade, one font subset), then cut into each letter's pages with pypdf. Each letter opens with
an anchor `letter-<student id>`; its pages run to the next letter's anchor.
"""

import collections
import io
import logging
import os
import pickle
import struct
import subprocess
import sys
import traceback
from collections.abc import Iterable
from pathlib import Path

logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def chunk_pdf(css: str, letters: list[tuple[str, str]]) -> tuple[bytes, dict[str, bytes]]:
    """`letters`: (key, html section) each. Returns the chunk's PDF and each key's own PDF."""
    from pypdf import PdfReader, PdfWriter
    from weasyprint import HTML  # loading Pango costs ~0.3 s: only letters and exports need it

    html = f'<!doctype html><html><head><meta charset="utf-8"><style>{css}</style></head><body>'
    html += "".join(section for _key, section in letters) + "</body></html>"
    document = HTML(string=html).render()
    ranges = page_ranges(document)
    written = document.write_pdf()
    del document
    reader = PdfReader(io.BytesIO(written))
    singles = {}
    for key, _section in letters:
        first, last = ranges[f"letter-{key}"]
        own = PdfWriter()
        for number in range(first, last):
            own.add_page(reader.pages[number])
        singles[key] = pdf_bytes(own)
    return written, singles


def page_ranges(document) -> dict[str, tuple[int, int]]:
    """Anchor name -> (first page, page after the last) of each letter in a laid-out document."""
    starts = []
    for number, page in enumerate(document.pages):
        starts += [(name, number) for name in page.anchors if name.startswith("letter-")][:1]
    ends = [number for _name, number in starts[1:]] + [len(document.pages)]
    return {name: (first, last) for (name, first), last in zip(starts, ends)}


def join_pdfs(parts: list[bytes]) -> bytes:
    """One PDF of the chunks' pages in order (all.pdf)."""
    from pypdf import PdfReader, PdfWriter

    if len(parts) == 1:
        return parts[0]
    together = PdfWriter()
    for part in parts:
        together.append(PdfReader(io.BytesIO(part)))
    return pdf_bytes(together)


def pdf_bytes(writer) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def letters_pdf(css: str, chunks: Iterable[list[tuple[str, str]]], *, processes: int):
    """Lay out every chunk, in `processes` worker processes when more than one. Yields (chunk
    PDF, singles) chunk by chunk, in order. `chunks` may be a generator: the caller writes the
    next chunk's HTML while the workers lay out the previous ones.

    The workers are plain subprocesses (`python -m outreach.families.letter_pdf`), not a
    multiprocessing pool: a Celery prefork worker is a daemonic process, which multiprocessing
    forbids to have children, and a fork would share the parent's database connection. Each
    worker holds one chunk at a time; answers are read in the order the chunks were sent."""
    chunks = iter(chunks)
    if processes <= 1:
        for chunk in chunks:
            yield chunk_pdf(css, chunk)
        return
    root = Path(__file__).resolve().parents[2]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    pool = [
        subprocess.Popen(
            [sys.executable, "-m", "outreach.families.letter_pdf"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            cwd=root, env=environment,
        )
        for _n in range(processes)
    ]  # fmt: skip
    waiting = collections.deque()
    try:
        for worker in pool:
            if _give(worker, css, chunks):
                waiting.append(worker)
        while waiting:
            worker = waiting.popleft()
            outcome, result = _receive(worker.stdout)
            if outcome != "ok":
                raise RuntimeError(f"A letter layout worker failed: {result}")
            if _give(worker, css, chunks):
                waiting.append(worker)
            yield result
    finally:
        for worker in pool:
            worker.stdin.close()
        for worker in pool:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def _give(worker, css: str, chunks) -> bool:
    chunk = next(chunks, None)
    if chunk is None:
        return False
    _send(worker.stdin, (css, chunk))
    return True


def _send(stream, value) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("!Q", len(data)) + data)
    stream.flush()


def _receive(stream):
    header = stream.read(8)
    if len(header) < 8:
        raise RuntimeError("A letter layout worker stopped without an answer.")
    return pickle.loads(stream.read(struct.unpack("!Q", header)[0]))  # noqa: S301 - our own child process


def _serve() -> None:
    """A worker: lays out chunks read from stdin until it closes, answering each on stdout."""
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the answers
    while True:
        header = requests.read(8)
        if len(header) < 8:
            return
        css, letters = pickle.loads(requests.read(struct.unpack("!Q", header)[0]))  # noqa: S301 - our parent
        try:
            answer = ("ok", chunk_pdf(css, letters))
        except Exception:  # noqa: BLE001 - the parent raises it with the traceback
            answer = ("error", traceback.format_exc())
        _send(answers, answer)


if __name__ == "__main__":
    _serve()
