"""Printing a case to PDF over HTTP, as the Desk's PDF button asks for it."""

import io
import unittest

from pypdf import PdfReader

from unioncase.compat import print_refused_status
from unioncase.tests.hierarchy_data import case_subject, ensure_hierarchy
from unioncase.tests.rest_client import RestSession

BRANCH_OFFICIAL = "t.branch.bogor@test.unioncase.org"
OTHER_BRANCH = "t.branch.riau@test.unioncase.org"
UNION = "T Cabang Bogor"
DOWNLOAD_PDF = "/api/method/frappe.utils.print_format.download_pdf"


class TestPrintPdf(unittest.TestCase):
	@classmethod
	def setUpClass(cls):
		cls.case = ensure_hierarchy()[UNION]

	def test_a_case_prints_to_a_pdf_that_holds_its_subject(self):
		response = RestSession(BRANCH_OFFICIAL).get(DOWNLOAD_PDF, doctype="Grievance", name=self.case)
		self.assertEqual(response.status_code, 200, response.text[:500])
		self.assertEqual(response.headers["Content-Type"].split(";")[0], "application/pdf")
		pages = PdfReader(io.BytesIO(response.content)).pages
		text = " ".join(
			" ".join(page.extract_text().split()) for page in pages
		)  # the extractor spaces with tabs
		self.assertIn(f"Subject: {case_subject(UNION)}", text)
		self.assertNotIn("Get PDF", text)  # the print view's toolbar is for the screen

	def test_an_official_outside_the_case_gets_no_pdf(self):
		response = RestSession(OTHER_BRANCH).get(DOWNLOAD_PDF, doctype="Grievance", name=self.case)
		self.assertEqual(response.status_code, print_refused_status(), response.text[:300])
		self.assertNotIn("application/pdf", response.headers.get("Content-Type", ""))
