from tests.groups.support import clock, course_store, learners, services
from tests.groups.world import world

__all__ = ["clock", "course_store", "learners", "services", "world"]
