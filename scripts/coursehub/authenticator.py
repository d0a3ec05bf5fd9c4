"""NativeAuthenticator with a seeded first admin and roster students pre-approved."""

from __future__ import annotations

from jupyterhub import orm
from nativeauthenticator import NativeAuthenticator
from traitlets import Unicode


class CoursehubAuthenticator(NativeAuthenticator):
    """Sign-up needs an admin's approval, except for students an instructor put on a roster."""

    admin_password = Unicode(
        "", config=True, help="Password of the first admin, created at start-up if missing."
    ).tag(config=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._seed_admins()

    def _seed_admins(self) -> None:
        if not self.admin_password:
            return
        for name in self.admin_users:
            if not self.user_exists(name) and not self.create_user(name, self.admin_password):
                self.log.error("could not create admin %s: password too weak or name invalid", name)

    def get_authed_users(self):
        """Approved users, plus everyone on a course roster (members of an nbgrader-* group)."""
        authed = set(super().get_authed_users())
        groups = self.db.query(orm.Group).filter(orm.Group.name.like("nbgrader-%"))
        for group in groups:
            authed.update(user.name for user in group.users)
        return authed
