"""A small, fixed union tree with a case, a member and officials at every position, for tests.

Creation is idempotent and committed, so a live server (REST tests) sees the same data.
What each official should see is computed here from TREE alone: the oracle, independent of the code
under test.
"""

import frappe

from unioncase.tests.harness import users_unthrottled

PASSWORD = "Uc-test-Password-2026!"
CASE_PREFIX = "T case at "

# (union, level, parent): a confederation with two federations, three branches, four workplace unions.
TREE = (
	("T Konfederasi", "Confederation", None),
	("T Federasi Garmen", "Federation", "T Konfederasi"),
	("T Cabang Bogor", "Branch", "T Federasi Garmen"),
	("T PUK Bogor Satu", "Workplace Union", "T Cabang Bogor"),
	("T PUK Bogor Dua", "Workplace Union", "T Cabang Bogor"),
	("T Cabang Karawang", "Branch", "T Federasi Garmen"),
	("T PUK Karawang Satu", "Workplace Union", "T Cabang Karawang"),
	("T Federasi Sawit", "Federation", "T Konfederasi"),
	("T Cabang Riau", "Branch", "T Federasi Sawit"),
	("T PUK Riau Satu", "Workplace Union", "T Cabang Riau"),
)

# email: (role, union the official is attached to, or None)
USERS = {
	"t.confederation@test.unioncase.org": ("Confederation Official", "T Konfederasi"),
	"t.federation.garmen@test.unioncase.org": ("Federation Official", "T Federasi Garmen"),
	"t.branch.bogor@test.unioncase.org": ("Branch Official", "T Cabang Bogor"),
	"t.branch.riau@test.unioncase.org": ("Branch Official", "T Cabang Riau"),
	"t.puk.bogor1@test.unioncase.org": ("Workplace Union Official", "T PUK Bogor Satu"),
	"t.unattached@test.unioncase.org": ("Branch Official", None),
	"t.researcher.sawit@test.unioncase.org": ("Union Researcher", "T Federasi Sawit"),
	"t.admin@test.unioncase.org": ("Union Administrator", None),
	# fail closed: a researcher without an attachment sees nothing; a System Manager sees the tree
	"t.researcher.unattached@test.unioncase.org": ("Union Researcher", None),
	"t.sysmanager@test.unioncase.org": ("System Manager", None),
}

UNRESTRICTED_ROLES = ("Union Administrator", "System Manager")


def subtree(union: str) -> set[str]:
	children = {name for name, _level, parent in TREE if parent == union}
	return {union}.union(*(subtree(child) for child in children))


def expected_unions(email: str) -> set[str]:
	role, union = USERS[email]
	if union:
		return subtree(union)
	return {name for name, _level, _parent in TREE} if role in UNRESTRICTED_ROLES else set()


def case_subject(union: str) -> str:
	return f"{CASE_PREFIX}{union}"


def member_name(union: str) -> str:
	return f"T Member of {union}"


def ensure_hierarchy() -> dict[str, str]:
	"""Create (or restore) the tree, its cases, members and officials; return {union: case name}."""
	frappe.set_user("Administrator")
	for union, level, parent in TREE:
		if frappe.db.exists("Union", union):
			doc = frappe.get_doc("Union", union)
			if doc.parent_union != parent or doc.level != level:
				doc.update({"parent_union": parent, "level": level}).save()
		else:
			frappe.get_doc(
				{"doctype": "Union", "union_name": union, "level": level, "parent_union": parent}
			).insert()

	cases = {}
	for union, level, _parent in TREE:
		if level == "Workplace Union" and not frappe.db.exists(
			"Union Member", {"full_name": member_name(union)}
		):
			frappe.get_doc(
				{
					"doctype": "Union Member",
					"full_name": member_name(union),
					"workplace_union": union,
					"phone": "+628123456" + str(len(union)).zfill(4),
				}
			).insert()
		subject = case_subject(union)
		cases[union] = frappe.db.get_value("Grievance", {"subject": subject}) or (
			frappe.get_doc(
				{"doctype": "Grievance", "subject": subject, "owning_union": union, "workers_affected": 3}
			)
			.insert()
			.name
		)
		if frappe.db.get_value("Grievance", cases[union], "owning_union") != union:
			# a run that failed half-way (or a hole a test found) left the case elsewhere
			frappe.get_doc("Grievance", cases[union]).update(
				{"owning_union": union, "workplace_union": None}
			).save()

	for email, (role, union) in USERS.items():
		ensure_user(email, role, union)
	frappe.db.commit()
	return cases


def ensure_user(email: str, role: str, union: str | None):
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
	if union and not frappe.db.exists(
		"User Permission", {"user": email, "allow": "Union", "for_value": union}
	):
		frappe.get_doc(
			{
				"doctype": "User Permission",
				"user": email,
				"allow": "Union",
				"for_value": union,
				"apply_to_all_doctypes": 1,
			}
		).insert()


def make_union(name: str, level: str, parent: str | None = None, **values):
	"""Insert a union for one test (not committed; the test class rolls it back)."""
	return frappe.get_doc(
		{"doctype": "Union", "union_name": name, "level": level, "parent_union": parent, **values}
	).insert()


def make_official(email: str, role: str, union: str):
	ensure_user(email, role, union)
	return email
