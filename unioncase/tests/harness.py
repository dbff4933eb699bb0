"""What a test needs from the framework, said by the test rather than left to the runner.

`bench run-tests` (v15: frappe.flags.in_test; v16: frappe.in_test) and this repository's pytest
harness (frappe.flags.in_test only, on the embedded runtime, which reads frappe.in_test) do not set the
same flags, and Frappe changes two things on them that tests assert:

- no Version is written for a save unless the save is told `ignore_version=False`
  (Document._save: `flags.ignore_version = in_test`): `changes_tracked()`;
- background jobs of Frappe's own controllers (the "assigned a new task" notice, deletion requests)
  run in-process at once rather than after commit on a worker the tests do not have:
  `jobs_run_now()`.

And one thing Frappe does on any site: it refuses a new User once more than `throttle_user_limit` (60)
were created in the last hour (user.throttle_user_creation, a sign-up brake); the suite's test users on
a fresh site (a new bench) pass that within one run: `users_unthrottled()`.
"""

from contextlib import contextmanager
from unittest.mock import patch

import frappe
from frappe.model.document import Document


@contextmanager
def changes_tracked():
	"""Every save in the block tracks its changes (writes its Version) as it does outside tests, also
	the saves made for the test by the workflow, jobs and controllers, which cannot be told
	`ignore_version=False`; a save told `ignore_version=True` still writes none."""
	original = Document._save

	def _save(self, ignore_permissions=None, ignore_version=None):
		return original(self, ignore_permissions, False if ignore_version is None else ignore_version)

	Document._save = _save
	try:
		yield
	finally:
		Document._save = original


@contextmanager
def jobs_run_now():
	"""What `bench run-tests` sets on every version: Frappe's controllers then run the jobs they queue
	in-process, at once (v15 reads frappe.flags.in_test, which the harness sets; v16 frappe.in_test)."""
	with patch.object(frappe, "in_test", True, create=True):
		yield


@contextmanager
def users_unthrottled():
	"""The block inserts test users past Frappe's sign-up throttle (this process only), then restores it."""
	conf = frappe.local.conf
	limit = conf.get("throttle_user_limit")
	conf["throttle_user_limit"] = 10**9
	try:
		yield
	finally:
		if limit is None:
			conf.pop("throttle_user_limit", None)
		else:
			conf["throttle_user_limit"] = limit
