from unioncase.privacy.consent import make_default_consent_texts


def execute():
	"""Sites installed before consent texts existed get the first version (never overwriting one)."""
	make_default_consent_texts()
