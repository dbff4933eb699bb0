"""A data-protection officer's search: every text column of every table, the site's files, both Redis databases.

The audit tests give their records distinctive strings (a random token in every name, email, address
and text, random digits for phone numbers and national ids), do something to them (erasure,
retention, withdrawal, an anonymous report) and then look everywhere for those strings.
"""

import json
import os
import random
from pathlib import Path

import frappe

TEXT_TYPES = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "json")
# the Desk's built bundles: code, not data
SKIPPED_FOLDERS = {"assets", "node_modules"}
MAX_FILE = 20 * 1024 * 1024


class Identity:
	"""A worker nobody else could be: every string carries the token or random digits."""

	def __init__(self):
		self.token = "qz" + frappe.generate_hash(length=8).lower()
		self.first_name = f"Zorvath{self.token}"
		self.last_name = "Qelmira"
		self.full_name = f"{self.first_name} {self.last_name}"
		self.email = f"{self.token}.worker@example.org"
		digits = "".join(random.choice("0123456789") for _ in range(8))
		self.phone = f"0813-{digits[:4]}-{digits[4:]}"
		self.national_id = "3299" + "".join(random.choice("0123456789") for _ in range(12))
		self.address = f"Jl. Kenanga {self.token} No. 7, Bogor"

	def needles(self) -> list[str]:
		"""What a copy of this worker contains in any spelling: the token, the phone's and id's digits."""
		digits = self.phone.replace("-", "")
		return [self.token, digits, digits[1:], self.phone, self.national_id]


def text_columns() -> dict[str, list[str]]:
	rows = frappe.db.sql(
		"""select table_name, column_name from information_schema.columns
		where table_schema = database() and data_type in %(types)s""",
		{"types": TEXT_TYPES},
	)
	tables = {}
	for table, column in rows:
		tables.setdefault(table, []).append(column)
	return tables


def database_hits(needles: list[str]) -> dict[tuple[str, str], list[str]]:
	"""{(table, column): [row names or first 80 characters]} wherever a needle occurs."""
	hits = {}
	for table, columns in text_columns().items():
		values = {f"n{number}": f"%{needle}%" for number, needle in enumerate(needles)}
		holds = {
			column: " or ".join(f"`{column}` like %(n{number})s" for number in range(len(needles)))
			for column in columns
		}
		has_name = "name" in columns or frappe.db.sql(
			"""select 1 from information_schema.columns where table_schema = database()
			and table_name = %s and column_name = 'name'""",
			table,
		)
		label = "`name`" if has_name else "''"
		for column, condition in holds.items():
			rows = frappe.db.sql(
				f"select {label}, left(`{column}`, 160) from `{table}` where {condition} limit 20", values
			)
			if rows:
				hits[(table, column)] = [f"{row[0]}: {row[1]}" for row in rows]
	return hits


def file_hits(needles: list[str]) -> dict[str, int]:
	"""{path: count} for every file under the site folder and the logs folder that holds a needle."""
	roots = [Path(frappe.get_site_path()).resolve()]
	logs = roots[0].parent / "logs"
	if logs.exists():
		roots.append(logs)
	encoded = [needle.encode() for needle in needles]
	hits = {}
	for root in roots:
		for folder, subfolders, files in os.walk(root):
			subfolders[:] = [name for name in subfolders if name not in SKIPPED_FOLDERS]
			for name in files:
				path = Path(folder) / name
				try:
					if path.is_symlink() or path.stat().st_size > MAX_FILE:
						continue
					content = path.read_bytes()
				except OSError:
					continue
				count = sum(content.count(needle) for needle in encoded)
				if count:
					hits[str(path)] = count
	return hits


def redis_connections():
	from frappe.utils.background_jobs import get_redis_conn

	return {"cache": frappe.cache, "queue": get_redis_conn()}


def redis_hits(needles: list[str]) -> dict[str, str]:
	"""{database:key: first match} for every key, of any type, whose name or value holds a needle."""
	forms = set()
	for needle in needles:
		forms.update({needle.encode(), json.dumps(needle).encode()})
	hits = {}
	for database, connection in redis_connections().items():
		for key in connection.scan_iter(count=1000):
			values = [key]
			try:
				kind = connection.type(key)
				if kind == b"string":
					values.append(connection.get(key) or b"")
				elif kind == b"list":
					values += connection.lrange(key, 0, -1)
				elif kind == b"hash":
					for field, value in connection.hgetall(key).items():
						values += [field, value]
				elif kind == b"set":
					values += list(connection.smembers(key))
				elif kind == b"zset":
					values += connection.zrange(key, 0, -1)
			except Exception:
				continue
			for value in values:
				value = value if isinstance(value, bytes) else str(value).encode()
				if any(form in value for form in forms):
					hits[f"{database}:{key.decode(errors='replace')}"] = value[:160].decode(errors="replace")
					break
	return hits


def everywhere(needles: list[str]) -> dict:
	return {
		"database": database_hits(needles),
		"files": file_hits(needles),
		"redis": redis_hits(needles),
	}
