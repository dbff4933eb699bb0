"""The Bahasa Indonesia translation covers every message of the app, and users get it."""

import re

import frappe
from frappe.translate import clear_cache, get_messages_for_app, get_translation_dict_from_file, read_csv_file

from unioncase.compat import IntegrationTestCase

ID_CSV = frappe.get_app_path("unioncase", "translations", "id.csv")
PLACEHOLDER = re.compile(r"\{\d+\}")
# Navbar Settings labels: site data the extractor adds to every app, not UnionCase's own messages.
SITE_MESSAGE_SOURCES = ("Navbar:",)


def app_messages() -> set[tuple[str, str | None]]:
	"""(message, context) for every translatable message, as Frappe extracts them for the app."""
	frappe.flags.scanned_files = set()  # the extractor skips files an earlier call already scanned
	messages = set()
	for message in get_messages_for_app("unioncase"):
		if message[0] in SITE_MESSAGE_SOURCES:
			continue
		context = message[2] if len(message) > 2 and isinstance(message[2], str) else None
		messages.add((message[1], context or None))
	return messages


class TestTranslations(IntegrationTestCase):
	def setUp(self):
		self.translations = get_translation_dict_from_file(ID_CSV, "id", "unioncase")

	def tearDown(self):
		frappe.local.lang = "en"
		clear_cache()

	def use_indonesian(self):
		frappe.local.lang = "id"
		clear_cache()  # merged translations are cached per language

	def translation_of(self, message: str, context: str | None) -> str:
		if context and (translated := self.translations.get(f"{message}:{context}")):
			return translated
		return self.translations.get(message) or ""

	def test_every_message_is_translated(self):
		missing = sorted(
			message
			for message, context in app_messages()
			if not self.translation_of(message, context).strip()
		)
		self.assertFalse(
			missing, f"{len(missing)} messages lack a translation in {ID_CSV}:\n" + "\n".join(missing)
		)

	def test_translations_keep_placeholders(self):
		broken = [
			f"{source!r} -> {translation!r}"
			for source, translation, *_context in read_csv_file(ID_CSV)
			if set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(translation))
		]
		self.assertFalse(broken, "Placeholders differ from the source:\n" + "\n".join(broken))

	def test_labels_are_shown_in_indonesian(self):
		self.use_indonesian()
		self.assertEqual(frappe._("Owning Union"), "Serikat Penanggung Jawab")
		self.assertEqual(frappe._("Grievance"), "Pengaduan")

	def test_validation_errors_are_shown_in_indonesian(self):
		self.use_indonesian()
		with self.assertRaises(frappe.ValidationError) as raised:
			frappe.get_doc({"doctype": "Grievance", "subject": "Upah lembur tidak dibayar"}).insert()
		self.assertEqual(
			str(raised.exception),
			"Kasus harus memiliki serikat penanggung jawab: serikat tingkat perusahaan, cabang, "
			"atau federasi yang menanganinya.",
		)
