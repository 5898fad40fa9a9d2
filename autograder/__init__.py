"""Grading pipeline for the course: release, autograde, feedback, example submissions.

Run ``python -m autograder --help``. Everything goes through nbgrader 0.9.6 run as a
subprocess (``python -m nbgrader``) with the settings in ``autograder/nbgrader_config.py``.
"""

__all__ = ["UsageError"]


class UsageError(Exception):
    """An expected problem a person can fix (bad path, stale release, ...).

    The command line prints its message without a traceback and exits with status 2.
    """
