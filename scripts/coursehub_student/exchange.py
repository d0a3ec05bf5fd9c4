"""nbgrader exchange, student side, hardened.

Submit: a submission is readable by its student and the grader only.

nbgrader makes submissions world-readable and the submission folder world-writable,
"hidden from other users by the timestamp". The inbound folder is setgid to the grader's
group, so group permissions are all the grader needs; other students get nothing.
"""

from __future__ import annotations

import os
import shutil
import stat

from nbgrader.exchange.default.fetch_feedback import ExchangeFetchFeedback
from nbgrader.exchange.default.submit import ExchangeSubmit
from nbgrader.utils import ignore_patterns

OTHERS = stat.S_IRWXO


class PrivateExchangeSubmit(ExchangeSubmit):
    """Submit with no permission bits for other accounts on anything in the inbound copy."""

    _inbound_dest: str | None = None

    def do_copy(self, src, dest, log=None):
        if not os.path.abspath(dest).startswith(os.path.abspath(self.inbound_path) + os.sep):
            return super().do_copy(src, dest, log)
        self._inbound_dest = dest
        # nbgrader's copytree ends with copystat on the new folder, which drops the setgid
        # bit it inherited from inbound; a student cannot set it back (not in the grader's
        # group), and then timestamp.txt gets the student's group and the grader cannot
        # read it. So the folder is made here and only its contents are copied.
        if self.get_size(src) > 1000 * self.coursedir.max_dir_size:
            raise RuntimeError("Directory size is too big")
        ignore = ignore_patterns(
            exclude=self.coursedir.ignore,
            include=self.coursedir.include,
            max_file_size=self.coursedir.max_file_size,
            log=self.log,
        )
        os.mkdir(dest)
        names = os.listdir(src)
        skipped = ignore(src, names)
        for name in names:
            if name in skipped:
                continue
            source, target = os.path.join(src, name), os.path.join(dest, name)
            if os.path.isdir(source):
                shutil.copytree(source, target, ignore=ignore)
            else:
                shutil.copy2(source, target)

    def set_perms(self, dest, fileperms, dirperms):
        super().set_perms(dest, fileperms & ~OTHERS, dirperms & ~OTHERS)

    def copy_files(self):
        super().copy_files()
        if self._inbound_dest:
            # Group-writable (setgid: the grader's group) so the grader can collect and delete.
            os.chmod(self._inbound_dest, stat.S_ISGID | stat.S_IRWXU | stat.S_IRWXG)


class PrivateExchangeFetchFeedback(ExchangeFetchFeedback):
    """Fetch feedback without following a link, in the exchange or in the student's folder."""

    def do_copy(self, src, dest):
        for _, timestamp, feedbackpath in self.feedback_files:
            if not stat.S_ISREG(os.lstat(feedbackpath).st_mode):
                self.fail(f"refusing to fetch {feedbackpath}: not a regular file")
            target = os.path.join(dest, timestamp)
            for path in self._paths_written(target):
                if os.path.islink(path):
                    self.fail(f"refusing to write feedback through the link {path}")
        super().do_copy(src, dest)

    def _paths_written(self, target):
        """Every folder from the assignment folder down to ``target``, and its files."""
        base = os.path.abspath(self.assignment_dir)
        rel = os.path.relpath(target, base)
        parts = [] if rel.startswith("..") else rel.split(os.sep)
        paths = [os.path.join(base, *parts[: i + 1]) for i in range(len(parts))]
        if os.path.isdir(target) and not os.path.islink(target):
            paths += [e.path for e in os.scandir(target)]
        return paths
