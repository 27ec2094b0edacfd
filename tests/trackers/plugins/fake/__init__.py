"""A tracker added the way docs/adding-a-tracker.md says: one folder, no other file touched.

tests/trackers/test_adding_a_tracker.py puts this folder's parent on
``MIGRATOR_TRACKERS``; migrator init, make_target and the target contract
then find it like the trackers under migrator/trackers/.
"""

from migrator.trackers.registry import Tracker

TRACKER = Tracker("Fake", targets=("fake",))
