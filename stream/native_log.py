"""Keep MediaPipe / LiteRT / TFLite start-up and shutdown notices off the terminal (CLI only).

Their C++ code writes to file descriptor 2 directly (glog ``W0000 00:00:… file.cc:N] …`` lines,
``WARNING: Logging before InitGoogle() is written to STDERR``, ``INFO: [accelerator_registry.cc:43]
DestroyAccelerator …``, ``Created TensorFlow Lite XNNPACK delegate``), so Python logging filters
never see them. :func:`install` (called through :func:`install_for_program` by the ``skelzs`` and
``skelzs-train`` console scripts only, never on import) points fd 2
at a pipe; a small forked filter process reads it, drops those lines and writes everything else
unchanged to the original stderr. A fork rather than a thread: when native code aborts (a glog
``F`` line, then ``abort()``), the kernel closes the pipe and the filter still writes what it had,
where a thread would die with the process and lose exactly that line.

Python's own ``sys.stderr`` (rich logging, ``error: …`` lines, tracebacks) is rebound to a copy
of the original descriptor: it is never filtered and stays a TTY when it was one (the rich live
view and colours depend on that). To keep the order of native and Python lines, each Python
write first waits (at most 50 ms) until the filter has taken what native code left in the pipe. The ``Exception ignored in: <function
PoseLandmarker.__del__ …> … TypeError`` noise MediaPipe objects leave at interpreter exit is a
Python-level message; a ``sys.unraisablehook`` drops it (and the pipe filter drops that block
too, should it arrive on fd 2). At exit (``atexit``) fd 2 is restored, which closes the pipe, and
the filter process is waited for (at most 2 s) so its last lines come out before the program
ends. ``skelzs -v`` installs nothing: every native line shows.
"""

from __future__ import annotations

import atexit
import io
import os
import re
import select
import signal
import sys
import threading
import time

__all__ = ["install", "install_for_program", "is_noise", "LineFilter", "verbose_requested"]

# glog info/warning lines ("I0000 00:00:1733… 123 file.cc:45] …", "W1205 …"); E and F lines stay
_NOISE = re.compile(
    r"""^(?:
        [IW]\d{4}\s
      | WARNING:\ Logging\ before\ InitGoogle\(\)
      | WARNING:\ All\ log\ messages\ before\ absl::InitializeLog\(\)
      | INFO:\                                     # TFLite / LiteRT INFO: notices
      | WARNING:\ \[[\w./+-]+\.(?:cc|h|cpp|c):\d+\]   # LiteRT "WARNING: [file.cc:N] …" notices
      | Created\ TensorFlow\ Lite\ [\w ]*delegate
    )""",
    re.X,
)
# "Exception ignored in: <function PoseLandmarker.__del__ at 0x…>" … "TypeError: …"
_DEL_HEADER = re.compile(r"^Exception ignored in: <function (\w+)\.__del__ at ")
_DEL_END = re.compile(r"^TypeError\b")
_EXC_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Warning|Interrupt|Exit)\b")

_state: dict = {}


def is_noise(line: str) -> bool:
    """Whether one line (no newline) is a known native notice."""
    return bool(_NOISE.match(line))


class LineFilter:
    """Feed bytes, get back the bytes to forward. Lines are judged whole; a ``__del__`` block
    is held until its last line shows whether it is the known ``TypeError`` noise."""

    def __init__(self) -> None:
        self._partial = b""
        self._block: list[bytes] | None = None

    def feed(self, data: bytes) -> bytes:
        data = self._partial + data
        *lines, self._partial = data.split(b"\n")
        return b"".join(self._line(ln + b"\n") for ln in lines)

    def flush(self) -> bytes:
        """What is left: a partial last line and an unfinished held block, forwarded as they are."""
        out = b""
        if self._partial:
            out = self._line(self._partial)
            self._partial = b""
        if self._block is not None:
            out = b"".join(self._block) + out
            self._block = None
        return out

    def _line(self, raw: bytes) -> bytes:
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if self._block is not None:
            self._block.append(raw)
            if text.startswith((" ", "\t", "Traceback")) or not text:
                return b""
            block, self._block = self._block, None
            if _DEL_END.match(text):
                return b""                       # the known __del__ TypeError at exit: dropped
            if _EXC_LINE.match(text):
                return b"".join(block)           # another exception: a real problem, forwarded
            return b"".join(block[:-1]) + self._line(raw)
        if _DEL_HEADER.match(text):
            self._block = [raw]
            return b""
        return b"" if is_noise(text) else raw


def verbose_requested(argv: list[str]) -> bool:
    """``-v`` / ``--verbose`` among the root options (those before the command name)."""
    for arg in argv:
        if not arg.startswith("-"):
            return False
        if arg in ("-v", "--verbose"):
            return True
    return False


def install_for_program(argv: list[str] | None) -> bool:
    """The console scripts' call (``skelzs``, ``skelzs-train``): filter when run as a program
    (``argv`` is None: the command line is ``sys.argv``), never for an in-process caller that passes
    its own ``argv`` (tests, scripts): their fd 2 is left alone."""
    if argv is not None:
        return False
    return install(verbose=verbose_requested(sys.argv[1:]))


def _unraisable_hook(unraisable) -> None:
    obj = getattr(unraisable, "object", None)
    qual = getattr(obj, "__qualname__", "") or ""
    module = getattr(obj, "__module__", "") or ""
    if (isinstance(unraisable.exc_value, TypeError) and qual.endswith(".__del__")
            and module.startswith("mediapipe")):
        return
    _state.get("previous_hook", sys.__unraisablehook__)(unraisable)


def _filter_process(read_fd: int, out_fd: int) -> None:     # runs in the forked child only
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C goes to the group: read on until EOF
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    flt = LineFilter()

    def write(b: bytes) -> None:
        while b:
            try:
                b = b[os.write(out_fd, b):]
            except InterruptedError:
                continue
            except OSError:
                return

    while True:
        try:
            ready, _, _ = select.select([read_fd], [], [], 0.2)
            if not ready:                            # idle: a line written without its newline
                write(flt.flush())
                continue
            data = os.read(read_fd, 65536)
        except InterruptedError:
            continue
        except OSError:
            break
        if not data:
            break
        write(flt.feed(data))
    write(flt.flush())


class _OrderedStderr(io.RawIOBase):
    """The original stderr for Python writes, after what native code wrote before them (see above)."""

    def __init__(self, fd: int, pipe_fd: int):
        self._fd, self._pipe = fd, pipe_fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def _pending(self) -> int:
        try:
            import fcntl
            import struct
            import termios

            return struct.unpack("i", fcntl.ioctl(self._pipe, termios.FIONREAD, b"\0\0\0\0"))[0]
        except (ImportError, OSError, AttributeError):
            return 0

    def write(self, b) -> int:
        if _state.get("pid"):
            deadline = time.monotonic() + 0.05
            while self._pending() and time.monotonic() < deadline:
                time.sleep(0.0005)
        return os.write(self._fd, b)


def install(verbose: bool = False) -> bool:
    """Filter native notices out of fd 2 for the rest of this process; see the module doc.
    Returns whether the filter runs (not with ``verbose``, twice, without ``fork`` or with threads
    already running, where forking is unsafe)."""
    if verbose or _state.get("pid") or not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    try:
        sys.stderr.flush()
        stderr_fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    if stderr_fd != 2:
        return False
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:                                     # the filter: reads the pipe, writes fd 2
        try:
            os.close(write_fd)
            for fd in (0, 1):
                try:
                    os.close(fd)                     # a reader of our stdout must not wait for us
                except OSError:
                    pass
            _filter_process(read_fd, 2)
        finally:
            os._exit(0)
    os.close(read_fd)
    saved = os.dup(2)
    os.set_inheritable(saved, False)
    old = sys.stderr
    sys.stderr = io.TextIOWrapper(io.BufferedWriter(_OrderedStderr(saved, 2)), encoding=old.encoding,
                                  errors=old.errors or "backslashreplace", line_buffering=True, write_through=True)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    _state.update(pid=pid, saved=saved, stream=sys.stderr, previous_hook=sys.unraisablehook)
    sys.unraisablehook = _unraisable_hook
    atexit.register(_restore)
    return True


def _restore(timeout: float = 2.0) -> None:
    """Put the original stderr back on fd 2 (closing the pipe) and wait for the filter to finish."""
    pid = _state.get("pid")
    if not pid:
        return
    try:
        _state["stream"].flush()
    except (OSError, ValueError):
        pass
    os.dup2(_state["saved"], 2)                      # the pipe's last write end: the filter sees EOF
    if sys.stderr is _state["stream"]:
        sys.stderr = sys.__stderr__
    deadline = time.monotonic() + timeout
    while True:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            break
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    _state["pid"] = None
