"""Progress of a step over many items: a one-line bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import threading


class Progress:
    """Counts items done out of ``expected``; thread-safe (the grading workers share one)."""

    def __init__(self, stream=None, expected: int = 0):
        self.stream = stream or sys.stdout
        # Logs and pipes get one plain line per item: no carriage returns, no escape codes.
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.expected = expected
        self.done = 0
        self.running: set[str] = set()
        self.lock = threading.Lock()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _bar(self) -> str:
        total = max(self.expected, self.done + len(self.running), 1)
        width = 24
        filled = int(width * self.done / total)
        names = ", ".join(sorted(self.running)[:3]) + ("..." if len(self.running) > 3 else "")
        return f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{total}  running: {names}"

    def _print(self, line: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + line + "\n" + self._bar())
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def start(self, name: str) -> None:
        with self.lock:
            self.running.add(name)
            if self.tty:
                self.stream.write("\r\x1b[K" + self._bar())
                self.stream.flush()

    def note(self, line: str) -> None:
        with self.lock:
            self._print(f"coursehub:   {line}")

    def item(self, name: str, text: str) -> None:
        """One item finished: ``coursehub: [i/N] name: text``."""
        with self.lock:
            self.running.discard(name)
            self.done += 1
            total = max(self.expected, self.done)
            self._print(f"coursehub: [{self.done:>{len(str(total))}}/{total}] {name}: {text}")

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
