"""Which fields identify a worker, and the role that may see them.

The fields sit at IDENTITY_PERMLEVEL in their DocType; only IDENTITY_ROLE has that level. Retention,
erasure, masking and the leak tests all read this one list.
"""

IDENTITY_ROLE = "Identity Custodian"
IDENTITY_PERMLEVEL = 1
# Administer personal data across the tree: export a member's data, withdraw their consent.
PRIVACY_ADMIN_ROLES = ("System Manager", "Union Administrator")

IDENTITY_FIELDS = {
	"Grievance": ("member", "reporter_name", "reporter_phone", "reporter_email"),
	"Union Member": ("full_name", "phone", "email", "national_id", "address", "date_of_birth"),
}
