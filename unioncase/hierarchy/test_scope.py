"""One scope: what a list shows, what a count counts and what a document check allows are the same
cases, members and unions, however the scope was given (hide_descendants, per-doctype User
Permissions) and however a case got where it is (escalated, moved by an admin, its subtree moved).
Writes move a document only from inside the writer's scope to inside it; shares stay inside scope."""

import frappe

from unioncase.compat import IntegrationTestCase, aggregate
from unioncase.hierarchy.scope import clear_scope_cache
from unioncase.tests.harness import users_unthrottled
from unioncase.tests.hierarchy_data import (
	PASSWORD,
	USERS,
	ensure_hierarchy,
	expected_unions,
	member_name,
	subtree,
)
from unioncase.tests.rest_client import RestSession
from unioncase.workflows.actions import apply_workflow
from unioncase.workflows.escalation import escalate

BOGOR_OFFICIAL = "t.branch.bogor@test.unioncase.org"
RIAU_OFFICIAL = "t.branch.riau@test.unioncase.org"
FEDERATION_OFFICIAL = "t.federation.garmen@test.unioncase.org"
SAWIT_RESEARCHER = "t.researcher.sawit@test.unioncase.org"

# Users attached in the ways Frappe's User Permission allows besides "this union and below, for every
# doctype": (role, [(union, applicable_for or None for all doctypes, hide_descendants)]), and what each
# must see of the test tree: (cases' unions, members' unions, unions).
SCOPED_USERS = {
	"t.scope.hidden@test.unioncase.org": (
		"Branch Official",
		[("T Cabang Bogor", None, 1)],
		({"T Cabang Bogor"}, set(), {"T Cabang Bogor"}),
	),
	"t.scope.cases-only@test.unioncase.org": (
		"Branch Official",
		[("T Cabang Bogor", "Grievance", 0)],
		(subtree("T Cabang Bogor"), set(), set()),
	),
	"t.scope.split@test.unioncase.org": (
		"Federation Official",
		[
			("T Cabang Bogor", "Grievance", 0),
			("T Cabang Riau", "Union Member", 0),
			("T PUK Riau Satu", "Union", 0),
		],
		(subtree("T Cabang Bogor"), {"T PUK Riau Satu"}, {"T PUK Riau Satu"}),
	),
	# an unrestricted role attached for members only sees no case and no union (fail closed)
	"t.scope.sysmanager-members@test.unioncase.org": (
		"System Manager",
		[("T Cabang Riau", "Union Member", 0)],
		(set(), {"T PUK Riau Satu"}, set()),
	),
}
WORKPLACE_UNIONS = {"T PUK Bogor Satu", "T PUK Bogor Dua", "T PUK Karawang Satu", "T PUK Riau Satu"}


class TestOneScope(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.cases = ensure_hierarchy()
		cls.union_of_case = {name: union for union, name in cls.cases.items()}
		cls.members = {
			frappe.db.get_value("Union Member", {"full_name": member_name(union)}): union
			for union in WORKPLACE_UNIONS
		}
		for email, (role, attachments, _expected) in SCOPED_USERS.items():
			ensure_scoped_user(email, role, attachments)
		frappe.db.commit()
		clear_scope_cache()
		cls.sessions = {}

	def session(self, email: str) -> RestSession:
		if email not in self.sessions:
			self.sessions[email] = RestSession(email)
		return self.sessions[email]

	def setUp(self):
		frappe.set_user("Administrator")

	def tearDown(self):
		frappe.set_user("Administrator")

	# what each path shows a user: in-process (list, count, document check) and over REST
	def seen(self, email: str, doctype: str, union_of: dict, rest: bool = True) -> dict:
		names = list(union_of)
		frappe.set_user(email)
		try:
			listed = frappe.get_list(doctype, filters={"name": ["in", names]}, pluck="name")
			counted = frappe.get_list(
				doctype,
				filters={"name": ["in", names]},
				fields=[aggregate("count", "*", "total")],
				order_by=None,
			)[0].total
			checked = [name for name in names if frappe.has_permission(doctype, doc=name)]
		finally:
			frappe.set_user("Administrator")
		seen = {
			"get_list": {union_of[name] for name in listed},
			"get_list count": counted,
			"has_permission": {union_of[name] for name in checked},
		}
		if rest:
			session = self.session(email)
			answer = session.get(
				f"/api/resource/{doctype}", filters={"name": ["in", names]}, limit_page_length=0
			)
			self.assertEqual(answer.status_code, 200, answer.text[:300])
			seen["REST list"] = {union_of[row["name"]] for row in answer.json()["data"]}
			count = session.get(
				"/api/method/frappe.client.get_count", doctype=doctype, filters={"name": ["in", names]}
			)
			self.assertEqual(count.status_code, 200, count.text[:300])
			seen["REST count"] = count.json()["message"]
			readable = set()
			for name in names:
				status = session.get(f"/api/resource/{doctype}/{name}").status_code
				self.assertIn(status, (200, 403), f"{email} {doctype} {name}")
				if status == 200:
					readable.add(union_of[name])
			seen["REST document"] = readable
		return seen

	def assert_sees(self, email: str, doctype: str, union_of: dict, expected: set, rest: bool = True):
		seen = self.seen(email, doctype, union_of, rest)
		want = {path: len(expected) if "count" in path else expected for path in seen}
		self.assertEqual(seen, want, f"{email} on {doctype}")

	def test_hide_descendants_and_per_doctype_user_permissions(self):
		unions = {
			name: name for name in frappe.get_all("Union", filters={"name": ["like", "T %"]}, pluck="name")
		}
		for email, (_role, _attachments, (cases, members, in_unions)) in SCOPED_USERS.items():
			with self.subTest(user=email):
				self.assert_sees(email, "Grievance", self.union_of_case, cases)
				self.assert_sees(email, "Union Member", self.members, members)
				self.assert_sees(email, "Union", unions, in_unions)

	def test_an_official_cannot_take_over_a_case_or_member_by_placing_it_in_their_union(self):
		"""PUT as the Bogor branch: a Riau case without a workplace union, then a Riau member."""
		session = self.session(BOGOR_OFFICIAL)
		riau_case = self.cases["T Cabang Riau"]
		for values in (
			{"owning_union": "T Cabang Bogor"},
			{"owning_union": "T Cabang Bogor", "workplace_union": "T PUK Bogor Satu"},
		):
			answer = session.put(f"/api/resource/Grievance/{riau_case}", **values)
			self.assertEqual(answer.status_code, 403, answer.text[:300])
			self.assertEqual(
				stored("Grievance", riau_case, ["owning_union", "workplace_union"]),
				("T Cabang Riau", None),
			)
			self.assertEqual(session.get(f"/api/resource/Grievance/{riau_case}").status_code, 403)
		riau_member = next(name for name, union in self.members.items() if union == "T PUK Riau Satu")
		answer = session.put(f"/api/resource/Union Member/{riau_member}", workplace_union="T PUK Bogor Satu")
		self.assertEqual(answer.status_code, 403, answer.text[:300])
		self.assertEqual(stored("Union Member", riau_member, "workplace_union"), "T PUK Riau Satu")
		# and the other way: a case of their own is not placed outside their subtree
		own_case = self.cases["T Cabang Bogor"]
		answer = session.put(f"/api/resource/Grievance/{own_case}", owning_union="T Cabang Riau")
		self.assertEqual(answer.status_code, 403, answer.text[:300])
		self.assertEqual(stored("Grievance", own_case, "owning_union"), "T Cabang Bogor")
		# inside their subtree they do move cases
		puk_case = self.cases["T PUK Bogor Dua"]
		try:
			answer = session.put(f"/api/resource/Grievance/{puk_case}", owning_union="T Cabang Bogor")
			self.assertEqual(answer.status_code, 200, answer.text[:300])
			self.assertEqual(stored("Grievance", puk_case, "owning_union"), "T Cabang Bogor")
		finally:
			frappe.db.rollback()
			doc = frappe.get_doc("Grievance", puk_case)
			doc.update({"owning_union": "T PUK Bogor Dua", "workplace_union": "T PUK Bogor Dua"}).save()
			frappe.db.commit()

	def test_an_escalated_case_an_admin_moves_is_seen_where_its_new_owner_looks(self):
		"""Cabang Bogor escalates a case without a workplace union to Federasi Garmen; an admin then
		gives it to Federasi Sawit: Sawit finds it in lists and counts, and Bogor and Garmen lose it."""
		case = escalated_case("T Cabang Bogor", "T scope moved case")
		self.assertEqual((case.owning_union, case.originating_union), ("T Federasi Garmen", "T Cabang Bogor"))
		case.owning_union = "T Federasi Sawit"
		case.save()
		frappe.db.commit()
		try:
			self.assertEqual(
				frappe.db.get_value(
					"Grievance", case.name, ["owning_union", "originating_union", "federation", "branch"]
				),
				("T Federasi Sawit", "T Federasi Sawit", "T Federasi Sawit", None),
			)
			for email in USERS:
				with self.subTest(user=email):
					expected = {"T Federasi Sawit"} & expected_unions(email)
					self.assert_sees(email, "Grievance", {case.name: "T Federasi Sawit"}, expected)
		finally:
			frappe.delete_doc("Grievance", case.name, force=True)
			frappe.db.commit()

	def test_an_escalated_case_whose_subtree_moves_away_stays_with_its_owner(self):
		"""PUK Karawang Satu -> Cabang Karawang -> Federasi Garmen; then Cabang Karawang moves under
		Federasi Sawit: Garmen, the owner, keeps the case in its lists; Sawit does not get it."""
		case = escalated_case("T PUK Karawang Satu", "T scope subtree case", hops=2)
		self.assertEqual(
			(case.owning_union, case.originating_union), ("T Federasi Garmen", "T PUK Karawang Satu")
		)
		karawang_case = self.cases["T Cabang Karawang"]
		try:
			# Garmen's official was given the Karawang branch's own case: the share leaves with the branch
			frappe.share.add("Grievance", karawang_case, FEDERATION_OFFICIAL, read=1)
			karawang = frappe.get_doc("Union", "T Cabang Karawang")
			karawang.parent_union = "T Federasi Sawit"
			karawang.save()
			self.assertEqual(
				frappe.db.get_value("Grievance", case.name, ["originating_union", "federation"]),
				("T Federasi Garmen", "T Federasi Garmen"),
			)
			self.assertFalse(frappe.db.exists("DocShare", {"share_name": karawang_case}))
			self.assertFalse(frappe.has_permission("Grievance", doc=karawang_case, user=FEDERATION_OFFICIAL))
			for email, sees in ((FEDERATION_OFFICIAL, {"T Federasi Garmen"}), (SAWIT_RESEARCHER, set())):
				with self.subTest(user=email):
					self.assert_sees(email, "Grievance", {case.name: "T Federasi Garmen"}, sees, rest=False)
		finally:
			frappe.db.rollback()
			clear_scope_cache()
		self.assertEqual(
			frappe.db.get_value("Union", "T Cabang Karawang", "parent_union"), "T Federasi Garmen"
		)

	def test_a_case_is_shared_only_inside_the_scope_of_the_user_it_is_shared_with(self):
		"""Frappe grants a shared document whatever the scope says: a share around it is refused."""
		session = self.session(BOGOR_OFFICIAL)
		case = self.cases["T PUK Bogor Dua"]
		try:
			for user, everyone in ((RIAU_OFFICIAL, 0), ("", 1)):
				answer = session.post(
					"/api/method/frappe.share.add",
					doctype="Grievance",
					name=case,
					user=user,
					read=1,
					everyone=everyone,
				)
				self.assertEqual(answer.status_code, 403, answer.text[:300])
				self.assertIn("part of the union hierarchy", answer.text)
				self.assertEqual(stored_share(case), [])
			self.assertEqual(
				self.session(RIAU_OFFICIAL).get(f"/api/resource/Grievance/{case}").status_code, 403
			)
			# a read share with an official who reads the case anyway stands
			answer = session.post(
				"/api/method/frappe.share.add",
				doctype="Grievance",
				name=case,
				user=FEDERATION_OFFICIAL,
				read=1,
			)
			self.assertEqual(answer.status_code, 200, answer.text[:300])
			self.assertEqual(stored_share(case), [(FEDERATION_OFFICIAL, 1, 0)])
			# but not a write share with an official who only reads it (the Sawit researcher reads nothing)
			answer = session.post(
				"/api/method/frappe.share.add",
				doctype="Grievance",
				name=case,
				user=SAWIT_RESEARCHER,
				read=1,
				write=1,
			)
			self.assertEqual(answer.status_code, 403, answer.text[:300])
		finally:
			frappe.db.delete("DocShare", {"share_doctype": "Grievance", "share_name": case})
			frappe.db.commit()

	def test_a_share_is_withdrawn_when_the_case_moves_out_of_the_users_scope(self):
		"""Bogor shares a case with Federasi Garmen's official; an admin gives it to Cabang Riau."""
		case = self.cases["T PUK Bogor Dua"]
		federation = self.session(FEDERATION_OFFICIAL)
		try:
			answer = self.session(BOGOR_OFFICIAL).post(
				"/api/method/frappe.share.add",
				doctype="Grievance",
				name=case,
				user=FEDERATION_OFFICIAL,
				read=1,
			)
			self.assertEqual(answer.status_code, 200, answer.text[:300])
			frappe.db.rollback()
			frappe.get_doc("Grievance", case).update(
				{"owning_union": "T Cabang Riau", "workplace_union": None}
			).save()
			frappe.db.commit()
			self.assertEqual(stored_share(case), [])
			self.assertEqual(federation.get(f"/api/resource/Grievance/{case}").status_code, 403)
			listed = federation.get("/api/resource/Grievance", filters={"name": case}).json()["data"]
			self.assertEqual(listed, [])
		finally:
			frappe.db.rollback()
			frappe.db.delete("DocShare", {"share_doctype": "Grievance", "share_name": case})
			frappe.get_doc("Grievance", case).update(
				{"owning_union": "T PUK Bogor Dua", "workplace_union": "T PUK Bogor Dua"}
			).save()
			frappe.db.commit()

	def test_a_share_is_withdrawn_when_its_user_is_attached_elsewhere(self):
		email = "t.scope.moving@test.unioncase.org"
		case = self.cases["T PUK Bogor Dua"]
		try:
			ensure_scoped_user(email, "Branch Official", [("T Cabang Bogor", None, 0)])
			# add_docshare: v15's frappe.share.add takes no flags (v16's passes them on)
			frappe.share.add_docshare(
				"Grievance", case, email, read=1, write=1, flags={"ignore_share_permission": True}
			)
			self.assertTrue(frappe.has_permission("Grievance", "write", doc=case, user=email))
			attachment = frappe.get_doc("User Permission", {"user": email, "allow": "Union"})
			attachment.for_value = "T Cabang Karawang"
			attachment.save()
			self.assertFalse(frappe.db.exists("DocShare", {"share_name": case, "user": email}))
			self.assertFalse(frappe.has_permission("Grievance", doc=case, user=email))
			self.assertTrue(
				frappe.has_permission("Grievance", doc=self.cases["T Cabang Karawang"], user=email)
			)
		finally:
			frappe.db.rollback()
			frappe.cache.hdel("user_permissions", email)

	def test_a_share_is_withdrawn_when_its_user_loses_the_role_that_saw_everything(self):
		email = "t.scope.demoted@test.unioncase.org"
		case = self.cases["T PUK Bogor Dua"]
		try:
			# an administrator attached to no union sees the whole tree, so a share with them stands
			ensure_scoped_user(email, "Union Administrator", [])
			frappe.share.add_docshare(
				"Grievance", case, email, read=1, write=1, flags={"ignore_share_permission": True}
			)
			self.assertTrue(frappe.db.exists("DocShare", {"share_name": case, "user": email}))
			self.assertTrue(frappe.has_permission("Grievance", "write", doc=case, user=email))
			# made a branch official, still attached to nothing: they see nothing, shared or not
			user = frappe.get_doc("User", email)
			user.append("roles", {"role": "Branch Official"})
			user.remove_roles("Union Administrator")
			self.assertFalse(frappe.db.exists("DocShare", {"share_name": case, "user": email}))
			self.assertFalse(frappe.has_permission("Grievance", doc=case, user=email))
		finally:
			frappe.db.rollback()
			frappe.cache.hdel("user_permissions", email)
			frappe.clear_cache(user=email)

	def test_a_union_name_with_a_percent_sign_is_scoped_like_any_other(self):
		try:
			frappe.get_doc(
				{
					"doctype": "Union",
					"union_name": "T PUK 100% Bogor",
					"level": "Workplace Union",
					"parent_union": "T Cabang Bogor",
				}
			).insert()
			case = frappe.get_doc(
				{"doctype": "Grievance", "subject": "T percent case", "owning_union": "T PUK 100% Bogor"}
			).insert()
			clear_scope_cache()
			for email, sees in ((BOGOR_OFFICIAL, {"T PUK 100% Bogor"}), (RIAU_OFFICIAL, set())):
				with self.subTest(user=email):
					self.assert_sees(email, "Grievance", {case.name: "T PUK 100% Bogor"}, sees, rest=False)
					self.assertEqual(
						frappe.has_permission("Grievance", "write", doc=case.name, user=email), bool(sees)
					)
		finally:
			frappe.db.rollback()
			clear_scope_cache()


def stored(doctype: str, name: str, fields):
	"""What the server committed (the test's own transaction would still show its snapshot)."""
	frappe.db.rollback()
	return frappe.db.get_value(doctype, name, fields)


def stored_share(case: str) -> list:
	frappe.db.rollback()
	rows = frappe.get_all(
		"DocShare",
		filters={"share_doctype": "Grievance", "share_name": case},
		fields=["user", "read", "write"],
		as_list=True,
		order_by="user",
	)
	return [tuple(row) for row in rows]


def escalated_case(union: str, subject: str, hops: int = 1):
	"""A case recorded at `union` and escalated `hops` times, accepted at each level (by Administrator)."""
	frappe.set_user("Administrator")
	case = frappe.get_doc({"doctype": "Grievance", "subject": subject, "owning_union": union}).insert()
	apply_workflow(case.as_dict(), "Verify")  # as the Desk sends it (v15 checks the type in tests)
	for hop in range(hops):
		if hop:
			apply_workflow(frappe.get_doc("Grievance", case.name).as_dict(), "Accept Escalation")
		escalate(case.name, f"Hop {hop + 1}")
	return frappe.get_doc("Grievance", case.name)


def ensure_scoped_user(email: str, role: str, attachments: list):
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{
				"doctype": "User",
				"email": email,
				"first_name": email.split("@")[0],
				"send_welcome_email": 0,
				"new_password": PASSWORD,
			}
		)
		user.append("roles", {"role": role})
		with users_unthrottled():
			user.insert()
	for union, applicable_for, hide_descendants in attachments:
		values = {"user": email, "allow": "Union", "for_value": union}
		if not frappe.db.exists("User Permission", values):
			frappe.get_doc(
				{
					"doctype": "User Permission",
					**values,
					"apply_to_all_doctypes": 0 if applicable_for else 1,
					"applicable_for": applicable_for,
					"hide_descendants": hide_descendants,
				}
			).insert()
