from unioncase.setup.install import make_identity_role


def execute():
	"""Sites installed before identity protection get the Identity Custodian role."""
	make_identity_role()
