"""Tracking codes: what a worker types on the tracking page to follow their case.

75 random bits in Crockford's base32 (no I, L, O or U, so nothing reads as another character), shown in
three groups of five. Nothing of the case is in it, and only its SHA-256 is stored.
"""

import hashlib
import hmac
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 15  # 15 x 5 bits = 75 bits
GROUP = 5
# What a worker may type for a character that is not in the alphabet.
LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def new_code() -> str:
	return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def code_from_secret(key: bytes, nonce: str) -> str:
	"""The same code for the same form, so a report sent twice shows the worker the same code again.

	Only the nonce's hash is stored (the inbox's delivery key), so the database and the key together
	still do not give the code.
	"""
	digest = int.from_bytes(hmac.new(key, f"tracking:{nonce}".encode(), hashlib.sha256).digest(), "big")
	return "".join(ALPHABET[(digest >> (5 * position)) & 31] for position in range(LENGTH))


def display(code: str) -> str:
	return "-".join(code[start : start + GROUP] for start in range(0, LENGTH, GROUP))


def normalise(text) -> str | None:
	"""The code in a worker's typing ('abcd1-...', spaces, O for 0), or None if it cannot be one."""
	if not isinstance(text, str):
		return None
	code = "".join(character for character in text.upper() if character.isalnum()).translate(LOOKALIKES)
	if len(code) != LENGTH or any(character not in ALPHABET for character in code):
		return None
	return code


def code_hash(code: str) -> str:
	return hashlib.sha256(code.encode()).hexdigest()
