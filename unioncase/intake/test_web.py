"""The reporting page (/lapor) and the tracking page (/kasus), as a worker's phone uses them with no
JavaScript: light, in Bahasa Indonesia by default, every refusal explained with what was typed kept."""

import gzip

import frappe

from unioncase.compat import IntegrationTestCase
from unioncase.intake import inbox
from unioncase.tests.hierarchy_data import ensure_hierarchy
from unioncase.tests.intake_data import (
	EXE,
	PDF,
	PNG,
	WorkerBrowser,
	latest_inbound,
	page_text,
	reset_limits,
	tracking_code,
)

BOGOR = "T PUK Bogor Satu"
FIRST_VIEW_LIMIT = 15 * 1024


class TestReportPage(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()

	def setUp(self):
		reset_limits()

	def tearDown(self):
		reset_limits()
		frappe.db.set_single_value("Intake Settings", {"reports_per_hour": 0, "default_union": None})
		frappe.db.commit()

	def test_the_first_view_is_light_indonesian_and_needs_no_desk_assets(self):
		for path, language, heading in (
			("/lapor", "id", "Laporkan masalah di tempat kerja"),
			("/report-problem", "en", "Report a problem at work"),
			("/lapor?lang=en", "en", "Report a problem at work"),
		):
			page = WorkerBrowser().get(path)
			self.assertEqual(page.status_code, 200, path)
			self.assertIn(f'<html lang="{language}">', page.text)
			self.assertIn(heading, page_text(page))
			self.assertNotIn("/assets/", page.text, "no Desk bundles, no external CSS or JS")
			self.assertNotIn("<script", page.text)
			self.assertLess(len(page.content), FIRST_VIEW_LIMIT, f"{path} weighs {len(page.content)} bytes")
			self.assertLess(len(gzip.compress(page.content)), FIRST_VIEW_LIMIT // 3)
		self.assertIn('name="website"', WorkerBrowser().get("/lapor").text, "the honeypot is in the form")

	def test_a_translation_an_admin_changes_shows_on_the_next_view(self):
		# each web worker keeps its translations (compat.use_kept_translations): views first fill them all
		heading, changed = "Laporkan masalah di tempat kerja", "Sampaikan masalah di tempat kerja Anda"
		views = 20
		self.assertTrue(all(heading in page_text(WorkerBrowser().get("/lapor")) for _ in range(views)))
		translation = frappe.get_doc(
			{
				"doctype": "Translation",
				"language": "id",
				"source_text": "Report a problem at work",
				"translated_text": changed,
			}
		).insert()
		frappe.db.commit()
		try:
			shown = [page_text(WorkerBrowser().get("/lapor")) for _ in range(views)]
			self.assertEqual(sum(changed in text for text in shown), views, "every worker shows the new text")
		finally:
			translation.delete()
			frappe.db.commit()
		shown = [page_text(WorkerBrowser().get("/lapor")) for _ in range(views)]
		self.assertEqual(sum(heading in text for text in shown), views, "and the old one once it is deleted")

	def test_a_report_without_javascript_is_stored_and_shows_its_code(self):
		worker = WorkerBrowser()
		page = worker.report(
			union=BOGOR,
			files=[
				("files", ("bukti.png", PNG, "image/png")),
				("files", ("slip.pdf", PDF, "application/pdf")),
			],
		)
		self.assertEqual(page.status_code, 200, page.text[:500])
		code = tracking_code(page)
		self.assertIn("/kasus?kode=" + code, page.text)
		inbound = latest_inbound()
		self.assertEqual((inbound.state, inbound.union, inbound.channel), ("Received", BOGOR, "Web"))
		attached = frappe.get_all(
			"File",
			filters={"attached_to_doctype": inbox.INBOUND, "attached_to_name": inbound.name},
			pluck="file_name",
		)
		self.assertEqual(sorted(attached), ["lampiran-1.png", "lampiran-2.pdf"])
		self.assertEqual(inbox.process_message(inbound.name), "Processed")
		case = frappe.db.get_value("Inbound Message", inbound.name, "grievance")
		files = frappe.get_all(
			"File",
			filters={"attached_to_doctype": "Grievance", "attached_to_name": case},
			fields=["file_name", "is_private"],
		)
		self.assertEqual(
			sorted((f.file_name, f.is_private) for f in files), [("lampiran-1.png", 1), ("lampiran-2.pdf", 1)]
		)
		tracked = worker.track(code)
		self.assertEqual(tracked.status_code, 200)
		self.assertIn("Laporan Anda sudah diterima", page_text(tracked))

	def test_a_named_report_records_the_reporter_with_consent(self):
		worker = WorkerBrowser()
		page = worker.report(union=BOGOR, anonymity="nama", name="Dewi Lestari", contact="0812-3456-7890")
		code = tracking_code(page)
		inbound = latest_inbound()
		inbox.process_message(inbound.name)
		case = frappe.get_doc("Grievance", frappe.db.get_value("Inbound Message", inbound.name, "grievance"))
		self.assertEqual(
			(case.is_anonymous, case.reporter_name, case.reporter_phone),
			(0, "Dewi Lestari", "+6281234567890"),
		)
		self.assertEqual(case.consent_given, 1)
		self.assertEqual(
			case.consent_text_version,
			frappe.db.get_value(
				"Consent Text", {"language": "id"}, "name", order_by="effective_from desc, creation desc"
			),
		)
		self.assertTrue(code)

	def test_refusals_explain_in_indonesian_and_keep_what_was_typed(self):
		worker = WorkerBrowser()
		typed = "Mandor <b>membentak</b> pekerja & mengancam PHK\nbaris kedua"
		page = worker.report(description=typed, consent=None, contact="bukan nomor")
		self.assertEqual(page.status_code, 400)
		text = page_text(page)
		self.assertIn("Centang kotak persetujuan", text)
		self.assertIn("Tulis nomor HP", text)
		self.assertIn(typed, text, "what the worker wrote is kept")
		self.assertNotIn("<b>membentak</b>", page.text, "and escaped")
		self.assertIn('value="bukan nomor"', page.text)
		self.assertIn('name="form_token"', page.text, "the corrected form can be sent again")
		english = worker.report(lang="en", description="😡😡😡", path="/report-problem")
		self.assertEqual(english.status_code, 400)
		self.assertIn("Tell us in words what happened", page_text(english))

	def test_bad_input_is_refused_by_field_or_stored_harmlessly(self):
		worker = WorkerBrowser()
		cases = {
			"workplace": ("W" * 141, "Persingkat nama tempat kerja"),
			"description": ("kata " * 1001, "Persingkat cerita"),
			"anonymity": ("maybe", "Pilih melapor secara anonim"),
		}
		for field, (value, message) in cases.items():
			page = worker.report(**{field: value})
			self.assertEqual(page.status_code, 400, field)
			self.assertIn(message, page_text(page), field)
		named_without_name = worker.report(anonymity="nama", name="")
		self.assertIn("Tulis nama Anda", page_text(named_without_name))
		page = worker.report(
			union=BOGOR,
			workplace="PT Maju\u202e Jaya\x00",
			description="Pekerja\x00 dipaksa\u202e lembur\r\nSubject: injected\r\nBcc: x@example.org",
			name="Eko\r\nBcc: x@example.org",
		)
		self.assertEqual(page.status_code, 200, page.text[:500])
		stored = inbox.payload_of(latest_inbound())
		self.assertEqual(stored["workplace"], "PT Maju Jaya")
		self.assertNotIn("\x00", stored["description"])
		self.assertNotIn("\u202e", stored["description"])
		self.assertIsNone(stored["name"], "an anonymous report keeps no name even if one was typed")

	def test_abuse_protection_token_honeypot_size_and_rate_limits(self):
		worker = WorkerBrowser()
		foreign = WorkerBrowser().form_token()  # a token issued to another browser (a forged cross-site post)
		for page in (worker.report(token=foreign), worker.report(token="x.1.y")):
			self.assertEqual(page.status_code, 400)
			self.assertIn("Formulir ini sudah kedaluwarsa", page_text(page))
			self.assertIn("Upah lembur bulan Oktober", page_text(page), "what was typed is kept")
		trap = worker.report(website="http://spam.example")
		self.assertEqual(trap.status_code, 400)
		self.assertIn("Biarkan kosong", page_text(trap))
		bad_file = worker.report(files=[("files", ("foto.jpg", EXE, "image/jpeg"))])
		self.assertEqual(bad_file.status_code, 400)
		self.assertIn("Hanya foto dan dokumen PDF", page_text(bad_file))
		big = worker.report(files=[("files", ("foto.png", PNG + b"\x00" * (5 * 1024 * 1024), "image/png"))])
		self.assertEqual(big.status_code, 400)
		self.assertIn("lebih besar dari 5 MB", page_text(big))
		too_many = worker.report(files=[("files", (f"{n}.png", PNG, "image/png")) for n in range(4)])
		self.assertIn("paling banyak 3 berkas", page_text(too_many))
		huge = worker.report(
			files=[("files", (f"{n}.png", PNG + b"\x00" * (5 * 1024 * 1024), "image/png")) for n in range(4)]
		)
		self.assertEqual(huge.status_code, 413)
		before = frappe.db.count(inbox.INBOUND)
		frappe.db.set_single_value("Intake Settings", "reports_per_hour", 2)
		frappe.db.commit()
		self.assertEqual(worker.report(union=BOGOR).status_code, 200)
		self.assertEqual(worker.report(union=BOGOR).status_code, 200)
		limited = worker.report(union=BOGOR, description="Laporan ketiga dari sambungan yang sama hari ini.")
		self.assertEqual(limited.status_code, 429)
		self.assertIn("Laporan ketiga dari sambungan", page_text(limited))
		self.assertEqual(frappe.db.count(inbox.INBOUND), before + 2, "only the accepted reports were stored")

	def test_a_report_sent_twice_is_stored_once_and_shows_the_same_code(self):
		worker = WorkerBrowser()
		token = worker.form_token()
		first = worker.report(token=token, union=BOGOR)
		again = worker.report(token=token, union=BOGOR)
		self.assertEqual(tracking_code(first), tracking_code(again))
		self.assertIn("Anda sudah mengirim laporan ini", page_text(again))
		self.assertEqual(
			frappe.db.count(inbox.INBOUND, {"tracking_code_hash": latest_inbound().tracking_code_hash}), 1
		)


class TestTrackPage(IntegrationTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_hierarchy()

	def setUp(self):
		reset_limits()

	def test_the_tracking_page_shows_the_stage_and_takes_more_information_and_nothing_else(self):
		worker = WorkerBrowser()
		code = tracking_code(
			worker.report(union=BOGOR, description="Rahasia internal: pekerja dipotong gajinya.")
		)
		pending = worker.track(code)
		self.assertIn("sedang didaftarkan", page_text(pending))
		inbound = latest_inbound()
		inbox.process_message(inbound.name)
		case = frappe.db.get_value("Inbound Message", inbound.name, "grievance")
		frappe.get_doc("Grievance", case).add_comment("Comment", "Catatan internal pengurus: jangan bocor")
		frappe.db.commit()
		page = worker.track(code)
		self.assertEqual(page.status_code, 200)
		text = page_text(page)
		self.assertIn("Laporan Anda sudah diterima", text)
		self.assertIn("Belum ada pesan", text)
		for secret in (case, BOGOR, "Catatan internal", "Rahasia internal"):
			self.assertNotIn(secret, text, "nothing else about the case is shown")
		self.assertLess(len(page.content), FIRST_VIEW_LIMIT)
		token = page.text.split('name="form_token" value="')[1].split('"')[0]
		added = worker.track(
			code,
			action="add",
			form_token=token,
			message="Saya lupa: ini terjadi juga di bulan Agustus.",
			files={},
		)
		self.assertEqual(added.status_code, 200, added.text[:300])
		self.assertIn("Terkirim", page_text(added))
		follow_up = latest_inbound("Follow-up")
		self.assertEqual(follow_up.union, BOGOR)
		self.assertEqual(inbox.process_message(follow_up.name), "Processed")
		messages = frappe.get_all(
			"Case Message",
			filters={"grievance": case, "direction": "From Worker"},
			pluck="content",
			order_by="creation",
		)
		self.assertEqual(messages[-1], "Saya lupa: ini terjadi juga di bulan Agustus.")
		empty = worker.track(code, action="add", form_token=token.replace(".", "x", 1), message="")
		self.assertEqual(empty.status_code, 400)

	def test_an_unknown_or_malformed_code_is_explained(self):
		worker = WorkerBrowser()
		self.assertEqual(worker.track("ABCDE-12345-FGHJK").status_code, 404)
		self.assertIn("Tidak ada kasus dengan kode", page_text(worker.track("ABCDE-12345-FGHJK")))
		malformed = worker.track("12")
		self.assertEqual(malformed.status_code, 400)
		self.assertIn("15 huruf dan angka", page_text(malformed))
		self.assertIn('value="12"', malformed.text)
