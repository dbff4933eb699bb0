"""Run a real-Frappe app on PyPI's monoframe==0.0.1 (a single-tenant hard fork of Frappe).

This package is the whole compatibility layer. It is loaded by the `monoframe_compat.pth` file
that `scripts/setup.sh` drops into the virtualenv, so app code never imports it. It does two things:

1. `import frappe` (and every `frappe.x.y`) resolves to the very same module objects as
   `monoframe` (`monoframe.x.y`), so the app is written against real Frappe.
2. Right after selected monoframe modules execute, `patches.py` replaces the functions that
   hard-code monoframe as the only app, so a second app can be installed, migrated and tested.

Pinned to monoframe==0.0.1: `patches.check_version` refuses any other version.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import sys

from monoframe_compat import desk, patches, web

ALIAS = "frappe"
TARGET = "monoframe"


class _ExistingModuleLoader(importlib.abc.Loader):
	"""Hands back an already imported module object under a second name."""

	def __init__(self, module):
		self.module = module
		self.original_spec = getattr(module, "__spec__", None)

	def create_module(self, spec):
		return self.module

	def exec_module(self, module):
		# The import system has just set __spec__ to the alias's spec; tools that locate the
		# package from it (jinja's PackageLoader, importlib.resources) need the real one back.
		module.__spec__ = self.original_spec


class _PatchingLoader(importlib.abc.Loader):
	"""Executes a monoframe module normally, then applies its compatibility patch."""

	def __init__(self, loader, patch):
		self.loader = loader
		self.patch = patch

	def create_module(self, spec):
		return self.loader.create_module(spec)

	def exec_module(self, module):
		self.loader.exec_module(module)
		self.patch(module)

	def __getattr__(self, name):
		return getattr(self.loader, name)


class CompatFinder(importlib.abc.MetaPathFinder):
	def find_spec(self, fullname, path=None, target=None):
		if fullname == ALIAS or fullname.startswith(ALIAS + "."):
			target = TARGET + fullname[len(ALIAS) :]
			try:
				real = importlib.import_module(target)
			except ModuleNotFoundError as error:
				if error.name == target:
					return None  # Python then reports the missing frappe.x module by its own name
				raise
			return importlib.util.spec_from_loader(fullname, _ExistingModuleLoader(real))

		if fullname in patches.SYNTHETIC_MODULES:
			return importlib.util.spec_from_loader(
				fullname, _ExistingModuleLoader(patches.SYNTHETIC_MODULES[fullname]())
			)
		patch = _module_patch(fullname)
		if not patch:
			return None
		spec = importlib.machinery.PathFinder.find_spec(fullname, path)
		if spec and spec.loader:
			spec.loader = _PatchingLoader(spec.loader, patch)
		return spec


def _module_patch(fullname):
	"""patches.py's patch of a module, then desk.py's, then web.py's (the Desk's and the web request's
	patches live apart)."""
	tables = (patches.MODULE_PATCHES, desk.MODULE_PATCHES, web.MODULE_PATCHES)
	found = [table[fullname] for table in tables if fullname in table]
	if len(found) < 2:
		return found[0] if found else None

	def both(module):
		for patch in found:
			patch(module)

	return both


def install():
	"""Put the finder first on sys.meta_path; idempotent."""
	if not any(isinstance(f, CompatFinder) for f in sys.meta_path):
		sys.meta_path.insert(0, CompatFinder())
