"""Create, migrate and run a monoframe site for the apps in MONOFRAME_APPS (monoframe has no create-site).

A site is a folder holding `.env` (monoframe reads its whole configuration from it) plus the
`public/`, `private/` and `locks/` folders; monoframe writes its logs to `../logs` beside it.
"""

import argparse
import base64
import os
import secrets
import sys
from pathlib import Path

ENV_FILE = ".env"
# A new site is set up for an Indonesian federation (WIB); admins change it in System Settings.
REGIONAL_DEFAULTS = {"time_zone": "Asia/Jakarta", "date_format": "dd-mm-yyyy", "country": "Indonesia"}


def read_env(site_dir: Path) -> dict:
	env = {}
	for line in (site_dir / ENV_FILE).read_text().splitlines():
		if line.strip() and not line.startswith("#") and "=" in line:
			key, value = line.split("=", 1)
			env[key.strip()] = value.strip()
	return env


def write_env(site_dir: Path, db_name: str, apps: str, redis_cache: str, redis_queue: str, port: int):
	"""Write the site's .env once; later runs keep its password and secrets."""
	site_dir.mkdir(parents=True, exist_ok=True)
	env_path = site_dir / ENV_FILE
	if env_path.exists():
		if "ENCRYPTION_KEY" not in read_env(site_dir):  # .env files written before the key was kept here
			with env_path.open("a") as env:
				env.write(f"ENCRYPTION_KEY={new_encryption_key()}\n")
		return
	env_path.write_text(
		"\n".join(
			[
				"# monoframe site configuration, written by monoframe_compat.site",
				"DB_TYPE=mariadb",
				"DB_HOST=127.0.0.1",
				"DB_PORT=3306",
				f"DB_NAME={db_name}",
				f"DB_USER={db_name}",
				f"DB_PASSWORD={secrets.token_hex(12)}",
				f"REDIS_CACHE={redis_cache}",
				f"REDIS_QUEUE={redis_queue}",
				f"SECRET_KEY={secrets.token_hex(24)}",
				f"ENCRYPTION_KEY={new_encryption_key()}",
				f"SERVER_PORT={port}",
				f"MONOFRAME_APPS={apps}",
				"ALLOW_TESTS=1",
				"",
			]
		)
	)
	env_path.chmod(0o600)


def new_encryption_key() -> str:
	"""A Fernet key, as Frappe generates for site_config.json's encryption_key."""
	return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def enter_site(site_dir: Path):
	"""Load the site's .env into this process and make the site folder the working directory."""
	for folder in ("public/files", "private/files", "private/backups", "locks", "../logs", "monoframe/logs"):
		(site_dir / folder).mkdir(parents=True, exist_ok=True)
	os.chdir(site_dir)
	os.environ.update(read_env(site_dir))


def root_connection():
	import MySQLdb

	return MySQLdb.connect(user="root", passwd=os.environ.get("DB_ROOT_PASSWORD", ""))


def ensure_database_user(env: dict):
	"""Give the site's user the password in its .env: a new clone writes a new .env for an old database."""
	name, user, password = env["DB_NAME"], env["DB_USER"], env["DB_PASSWORD"]
	conn = root_connection()
	cur = conn.cursor()
	for host in ("localhost", "127.0.0.1", "%"):
		cur.execute(f"CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY '{password}'")
		cur.execute(f"ALTER USER '{user}'@'{host}' IDENTIFIED BY '{password}'")
		cur.execute(f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{user}'@'{host}'")
	cur.execute("FLUSH PRIVILEGES")
	conn.close()


def create_database(env: dict):
	"""(Re)create the site's empty database as MariaDB root over the local socket."""
	conn = root_connection()
	cur = conn.cursor()
	cur.execute(f"DROP DATABASE IF EXISTS `{env['DB_NAME']}`")
	cur.execute(f"CREATE DATABASE `{env['DB_NAME']}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	conn.close()
	ensure_database_user(env)


def database_installed(env: dict) -> bool:
	"""Whether the framework and every app of the site finished installing (else it is redone)."""
	import json

	conn = root_connection()
	cur = conn.cursor()
	cur.execute(
		"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema=%s AND table_name='tabDefaultValue'",
		(env["DB_NAME"],),
	)
	installed = []
	if cur.fetchone()[0]:
		cur.execute(
			f"SELECT defvalue FROM `{env['DB_NAME']}`.`tabDefaultValue` "
			"WHERE parent='__global' AND defkey='installed_apps'"
		)
		row = cur.fetchone()
		installed = json.loads(row[0]) if row else []
	conn.close()
	wanted = ["monoframe", *(app for app in env.get("MONOFRAME_APPS", "").split(",") if app)]
	return all(app in installed for app in wanted)


def new_site(site_dir: Path, admin_password: str):
	"""Install the framework, then every app in MONOFRAME_APPS, on an empty database."""
	enter_site(site_dir)
	create_database(read_env(site_dir))

	import frappe
	from frappe.installer import install_app, install_db
	from frappe.utils import scheduler

	frappe.init()
	install_db(
		db_name=frappe.conf.db_name,
		db_user=frappe.conf.db_user,
		db_password=frappe.conf.db_password,
		admin_password=admin_password,
		verbose=False,
		setup=False,
	)
	frappe.connect()
	install_app("monoframe", set_as_patched=True)
	for app in frappe.get_all_apps()[1:]:
		install_app(app, set_as_patched=True)
	frappe.db.set_single_value("System Settings", "setup_complete", 1)
	apply_regional_defaults()
	scheduler.toggle_scheduler(True)
	frappe.db.commit()
	frappe.destroy()


def apply_regional_defaults():
	"""What Frappe's setup wizard asks for, on new sites only: migrate never calls it, so an admin's choice stays."""
	import frappe

	for field, value in REGIONAL_DEFAULTS.items():
		frappe.db.set_single_value("System Settings", field, value)
		frappe.db.set_default(field, value)  # as System Settings' on_update does
	frappe.clear_cache()


def migrate(site_dir: Path):
	enter_site(site_dir)
	import frappe
	from frappe.migrate import SiteMigration

	frappe.init()
	frappe.connect()
	SiteMigration().run(site=frappe.get_site_name())
	frappe.destroy()


def execute(site_dir: Path, method: str, kwargs: str | None):
	"""Call a Python method inside the site and commit, like `bench execute` (the method prints what matters)."""
	import json

	enter_site(site_dir)
	import frappe

	frappe.init()
	frappe.connect()
	frappe.get_attr(method)(**json.loads(kwargs or "{}"))
	frappe.db.commit()
	frappe.destroy()


def web_command(site_dir: Path) -> list[str]:
	"""The web tier as bench's production config runs it: gunicorn, 2 x cores + 1 workers, preloaded."""
	workers = int(os.environ.get("UNIONCASE_WEB_WORKERS") or 2 * (os.cpu_count() or 1) + 1)
	return [
		str(Path(sys.executable).with_name("gunicorn")),
		"--bind",
		f"127.0.0.1:{read_env(site_dir)['SERVER_PORT']}",
		"--workers",
		str(workers),
		"--timeout",
		"120",
		"--max-requests",
		"5000",
		"--max-requests-jitter",
		"500",
		"--preload",
		"--chdir",
		str(site_dir),
		"monoframe_compat.wsgi:application",
	]


def serve(site_dir: Path):
	"""Replace this process with the site's web server (setup.sh and the test harness start it so)."""
	command = web_command(site_dir)
	enter_site(site_dir)
	os.execv(command[0], command)


def main(argv=None):
	parser = argparse.ArgumentParser(prog="python -m monoframe_compat.site")
	parser.add_argument("command", choices=["new", "ensure", "migrate", "execute", "web"])
	parser.add_argument("method", nargs="?", help="for execute: dotted path of the method to call")
	parser.add_argument("--kwargs", help="for execute: JSON object of keyword arguments")
	parser.add_argument("--site-dir", required=True, type=Path)
	parser.add_argument("--db-name", default="unioncase")
	parser.add_argument("--apps", default="unioncase")
	parser.add_argument("--redis-cache", default="redis://127.0.0.1:6379/0")
	parser.add_argument("--redis-queue", default="redis://127.0.0.1:6379/1")
	parser.add_argument("--port", type=int, default=8000)
	parser.add_argument("--admin-password", default="admin")
	args = parser.parse_args(argv)
	site_dir = args.site_dir.resolve()

	if args.command == "web":
		return serve(site_dir)
	write_env(site_dir, args.db_name, args.apps, args.redis_cache, args.redis_queue, args.port)
	if args.command == "execute":
		return execute(site_dir, args.method, args.kwargs)
	if args.command == "new" or (args.command == "ensure" and not database_installed(read_env(site_dir))):
		new_site(site_dir, args.admin_password)
	else:
		ensure_database_user(read_env(site_dir))
		migrate(site_dir)


if __name__ == "__main__":
	sys.exit(main())
