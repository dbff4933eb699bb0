"""Tracking codes: unguessable, unambiguous, nothing of the case inside, stored only as a hash."""

import math
import re

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.intake import tracking
from unioncase.tests.hierarchy_data import ensure_hierarchy
from unioncase.tests.intake_data import WorkerBrowser, latest_inbound, reset_limits, tracking_code


class TestTrackingCode(IntegrationTestCase):
	def test_codes_carry_at_least_60_random_bits_in_an_unambiguous_alphabet(self):
		self.assertGreaterEqual(tracking.LENGTH * math.log2(len(tracking.ALPHABET)), 60)
		self.assertFalse(set("ILOU") & set(tracking.ALPHABET))
		codes = {tracking.new_code() for _ in range(2000)}
		self.assertEqual(len(codes), 2000)
		seen = set("".join(codes))
		self.assertEqual(seen, set(tracking.ALPHABET), "every symbol is used")
		for code in list(codes)[:50]:
			self.assertRegex(tracking.display(code), r"^[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}$")

	def test_what_a_worker_types_is_read_forgivingly_and_anything_else_is_no_code(self):
		code = "ABCDE12345FGHJK"
		for typed in ("abcde-12345-fghjk", " ABCDE 12345 FGHJK ", "ABCDE-12345-FGHJK", "abcdei2345fghjk"):
			self.assertEqual(tracking.normalise(typed), code, typed)
		self.assertEqual(tracking.normalise("0OIL1-00000-00000"), "00111" + "0" * 10)
		for junk in ("", "ABC", "ABCDE-12345-FGHJK-1", ["ABCDE12345FGHJK"], None, 12, "ABCDE-12345-FGHJ!"):
			self.assertIsNone(tracking.normalise(junk), junk)


class TestTrackingLookups(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()

	def setUp(self):
		reset_limits()

	def tearDown(self):
		reset_limits()
		frappe.db.set_single_value("Intake Settings", {"lookups_per_hour": 0, "lookups_per_code_per_hour": 0})
		frappe.db.commit()

	def test_only_the_hash_of_the_code_is_stored_and_no_case_number_is_inside(self):
		worker = WorkerBrowser()
		code = tracking_code(worker.report(union="T PUK Bogor Satu"))
		normalised = tracking.normalise(code)
		inbound = latest_inbound()
		self.assertEqual(inbound.tracking_code_hash, tracking.code_hash(normalised))
		from unioncase.intake.inbox import process_message

		process_message(inbound.name)
		case = frappe.db.get_value("Inbound Message", inbound.name, "grievance")
		self.assertNotIn(re.sub(r"\D", "", case)[-5:], normalised)
		for table in (
			"tabInbound Message",
			"tabContact Handle",
			"tabGrievance",
			"tabCase Message",
			"tabVersion",
		):
			hits = frappe.db.sql(
				f"select count(*) from `{table}` where concat_ws('|', {columns(table)}) like %s",
				(f"%{normalised}%",),
			)[0][0]
			self.assertEqual(hits, 0, f"the code itself is stored in {table}")
		indexed = frappe.db.sql("show index from `tabContact Handle` where Column_name='tracking_code_hash'")
		self.assertTrue(indexed, "look-ups by code hash are served by an index")

	def test_look_ups_are_rate_limited_per_address_and_per_code(self):
		frappe.db.set_single_value("Intake Settings", {"lookups_per_hour": 5, "lookups_per_code_per_hour": 3})
		frappe.db.commit()
		worker = WorkerBrowser()
		code = tracking_code(worker.report(union="T PUK Bogor Satu"))
		for _ in range(3):
			self.assertEqual(worker.track(code).status_code, 200)
		blocked = worker.track(code)
		self.assertEqual(blocked.status_code, 429)
		self.assertIn("Kode ini terlalu sering dicoba", blocked.text)
		# a guesser trying many codes is stopped by the per-address limit
		other = tracking.display(tracking.new_code())
		self.assertEqual(worker.track(other).status_code, 404)
		self.assertEqual(worker.track(other).status_code, 429)


def columns(table: str) -> str:
	names = [row[0] for row in frappe.db.sql(f"show columns from `{table}`")]
	return ", ".join(f"`{name}`" for name in names)
