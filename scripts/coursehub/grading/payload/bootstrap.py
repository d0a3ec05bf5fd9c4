"""Sandbox entry point, passed to the sandbox's Python as ``python -P -c <this file>``.

The first line on stdin is a JSON object of the payload's sources (``coursehub_payload/
*.py``, sent by the backend); the rest of stdin (the job's tar) is the executor's. The
modules are imported from memory, so the sandbox holds no coursehub file on disk and any
image with Python and nbclient can grade.
"""

import importlib.abc
import importlib.util
import json
import sys

PACKAGE = "coursehub_payload"


class PayloadSources(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``coursehub_payload`` and its modules from the sources read from stdin."""

    def __init__(self, sources: dict):
        self.sources = sources

    def find_spec(self, name, path=None, target=None):
        if name != PACKAGE and not name.startswith(PACKAGE + "."):
            return None
        rel = name.replace(".", "/")
        for file, is_package in ((rel + "/__init__.py", True), (rel + ".py", False)):
            if file in self.sources:
                return importlib.util.spec_from_loader(
                    name, self, origin=file, is_package=is_package
                )
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        origin = module.__spec__.origin
        exec(compile(self.sources[origin], f"<payload>/{origin}", "exec"), module.__dict__)


def main():
    sources = json.loads(sys.stdin.buffer.readline())
    sys.meta_path.insert(0, PayloadSources(sources))
    from coursehub_payload.executor import main as execute

    sys.exit(execute())


if __name__ == "__main__":
    main()
