"""Global search gives full pages of the rows the user may read, and the next page continues.

The rows are written to `__global_search` directly (as Frappe's indexer would) so that the rows an
official may not read rank first: a filter applied after Frappe's LIMIT would give short pages.
"""

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.tests.hierarchy_data import ensure_hierarchy
from unioncase.tests.rest_client import RestSession

SEARCH = "/api/method/frappe.utils.global_search.search"
WORD = "zqxglobalpage"
OFFICIAL = "t.branch.bogor@test.unioncase.org"  # reads T Cabang Bogor's subtree only
READABLE_UNION, HIDDEN_UNION = "T PUK Bogor Satu", "T PUK Riau Satu"
READABLE, HIDDEN, PAGE = 10, 12, 4


class TestGlobalSearchPages(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()
		# names follow creation: the best-placed row is readable, the next ones are not, so the first
		# raw page (rank ties, then name) is mostly rows the official may not read
		first = cls.make_case(READABLE_UNION, 0)
		cls.hidden = [cls.make_case(HIDDEN_UNION, index) for index in range(HIDDEN)]
		cls.readable = [first] + [cls.make_case(READABLE_UNION, index) for index in range(1, READABLE)]
		for name in cls.readable + cls.hidden:
			cls.index(name)
		settings = frappe.get_single("Global Search Settings")
		cls.added_setting = "Grievance" not in [
			row.document_type for row in settings.allowed_in_global_search
		]
		if cls.added_setting:
			settings.append("allowed_in_global_search", {"document_type": "Grievance"})
			settings.save()
		frappe.cache.hdel("global_search", "search_priorities")
		frappe.db.commit()
		cls.session = RestSession(OFFICIAL)

	@classmethod
	def tearDownClass(cls):
		frappe.set_user("Administrator")
		frappe.db.delete("__global_search", {"content": ["like", f"%{WORD}%"]})
		for name in cls.readable + cls.hidden:
			frappe.delete_doc("Grievance", name, force=True, ignore_permissions=True)
		if cls.added_setting:
			settings = frappe.get_single("Global Search Settings")
			settings.allowed_in_global_search = [
				row for row in settings.allowed_in_global_search if row.document_type != "Grievance"
			]
			settings.save()
		frappe.cache.hdel("global_search", "search_priorities")
		frappe.db.commit()
		super().tearDownClass()

	@staticmethod
	def make_case(union: str, index: int) -> str:
		return (
			frappe.get_doc(
				{"doctype": "Grievance", "subject": f"T search {union} {index}", "owning_union": union}
			)
			.insert()
			.name
		)

	@staticmethod
	def index(name: str):
		frappe.db.sql(
			"""insert into `__global_search` (doctype, name, title, content, published)
			values ('Grievance', %s, %s, %s, 0)""",
			(name, name, f"Subject : {WORD} filler text"),
		)

	def page(self, start: int, limit: int = PAGE, **extra) -> list[str]:
		response = self.session.get(SEARCH, text=WORD, start=start, limit=limit, **extra)
		self.assertEqual(response.status_code, 200, response.text[:300])
		rows = response.json()["message"]
		self.assertEqual({row["doctype"] for row in rows} - {"Grievance"}, set())
		return [row["name"] for row in rows]

	def test_the_raw_first_page_is_mostly_unreadable(self):
		"""The setup itself: the first page before scoping (what Administrator gets) is mostly hidden rows."""
		from unioncase.hierarchy.api import global_search

		raw = [row.name for row in global_search(WORD, 0, PAGE)]
		self.assertEqual(raw, [self.readable[0], *self.hidden[: PAGE - 1]])

	def test_every_page_is_full_and_the_next_continues_without_gaps_or_repeats(self):
		pages = [self.page(start) for start in range(0, READABLE + PAGE, PAGE)]
		self.assertEqual([len(page) for page in pages], [PAGE, PAGE, READABLE - 2 * PAGE, 0])
		seen = [name for page in pages for name in page]
		self.assertEqual(len(seen), len(set(seen)))  # no repeats
		self.assertEqual(set(seen), set(self.readable))  # no gaps, nothing out of scope
		self.assertEqual(seen[0], self.readable[0])  # still ranked by relevance
		self.assertEqual(seen, self.page(0, limit=READABLE + HIDDEN))  # the same order in one page

	def test_one_doctype_and_titles(self):
		rows = self.session.get(SEARCH, text=WORD, start=0, limit=PAGE, doctype="Grievance").json()["message"]
		self.assertEqual(len(rows), PAGE)
		self.assertEqual(rows[0]["title"], f"T search {READABLE_UNION} 0")
		self.assertEqual(self.page(0, doctype="Union Member"), [])

	def test_an_unattached_official_finds_nothing(self):
		frappe.set_user("t.unattached@test.unioncase.org")
		from unioncase.hierarchy.api import global_search

		self.assertEqual(global_search(WORD, 0, PAGE), [])
		frappe.set_user("Administrator")
		self.assertEqual(len(global_search(WORD, 0, READABLE + HIDDEN)), READABLE + HIDDEN)
