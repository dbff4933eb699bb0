// Build the embedded runtime's Desk assets (monoframe/public) with esbuild; see runtime/README.md.
//
//   node build.mjs --public <monoframe/public> --out <folder>
//
// Writes <out>/monoframe/dist/{js,css}/<name>.<hash>.{js,css} and <out>/assets.json (bundle name -> URL),
// the manifest the server reads from assets/assets.json. Exits non-zero on any build error.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import esbuild from "esbuild";
import * as sass from "sass";
import vuePlugin from "esbuild-plugin-vue3";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NODE_MODULES = path.join(HERE, "node_modules");
const { values: args } = parseArgs({
	options: { public: { type: "string" }, out: { type: "string" } },
});
if (!args.public || !args.out) {
	console.error("usage: node build.mjs --public <monoframe/public> --out <folder>");
	process.exit(2);
}
const PUBLIC = path.resolve(args.public);
const PACKAGE = path.dirname(PUBLIC); // the monoframe Python package
const OUT = path.resolve(args.out);
const URL_PREFIX = "/assets/monoframe/dist";

// The fork renamed "frappe" to "monoframe" in source text but not on disk or on npm.
const renamed = (text) => text.replace(/monoframe/g, "frappe");

const SCRIPT_SUFFIXES = ["", ".js", ".ts", ".vue", "/index.js", ".scss", ".css"];
const STYLE_SUFFIXES = [".scss", ".css", ""];

function existing(candidate, suffixes = SCRIPT_SUFFIXES) {
	for (const suffix of suffixes) {
		const file = candidate + suffix;
		if (fs.existsSync(file) && fs.statSync(file).isFile()) return file;
	}
	return null;
}

function partial(candidate, suffixes) {
	// Sass partials may be written without their leading underscore and extension.
	const dir = path.dirname(candidate);
	const base = path.basename(candidate);
	for (const name of [base, `_${base}`]) {
		const found = existing(path.join(dir, name), suffixes);
		if (found) return found;
	}
	return null;
}

// A specifier the sources write with the fork's names, resolved to the file on disk (or null).
function renamedTarget(spec, resolveDir, suffixes) {
	if (spec.startsWith("monoframe/public/node_modules/")) {
		return existing(path.join(NODE_MODULES, spec.slice("monoframe/public/node_modules/".length)), suffixes);
	}
	if (spec.startsWith("monoframe/")) {
		const inside = spec.slice("monoframe/".length);
		return partial(path.join(PACKAGE, inside), suffixes) || partial(path.join(PACKAGE, renamed(inside)), suffixes);
	}
	if (spec.startsWith("monoframe-")) return partial(path.join(NODE_MODULES, renamed(spec)), suffixes);
	if (spec.startsWith(".") && resolveDir) {
		const direct = path.resolve(resolveDir, spec);
		if (partial(direct, suffixes)) return null; // nothing renamed: esbuild resolves it
		const relative = path.relative(PUBLIC, direct);
		if (!relative.startsWith("..")) return partial(path.join(PUBLIC, renamed(relative)), suffixes);
		return partial(path.join(path.dirname(direct), renamed(path.basename(direct))), suffixes);
	}
	return null;
}

const renameResolver = {
	name: "monoframe-renames",
	setup(build) {
		build.onResolve({ filter: /.*/ }, async (a) => {
			if (a.path.startsWith("/assets/")) return { path: a.path, external: true }; // served as is
			if (a.namespace !== "file" || a.path.includes("?") || a.pluginData?.renamed) return undefined;
			if (a.path.startsWith("monoframe-") && a.kind !== "url-token") {
				// npm names: monoframe-charts -> frappe-charts, and so on
				const options = { kind: a.kind, resolveDir: a.resolveDir, importer: a.importer };
				return build.resolve(renamed(a.path), { ...options, pluginData: { renamed: true } });
			}
			if (a.kind === "url-token" || a.kind === "import-rule") {
				if (a.path.startsWith("/") || a.path.startsWith("data:") || a.path.startsWith("http")) {
					return { path: a.path, external: true };
				}
				const target = renamedTarget(a.path.split(/[?#]/)[0], a.resolveDir);
				if (target) return { path: target };
				const direct = path.resolve(a.resolveDir, a.path.split(/[?#]/)[0]);
				return fs.existsSync(direct) ? undefined : { path: a.path, external: true };
			}
			if (a.path.endsWith(".html")) return undefined; // the template loader below
			const target = renamedTarget(a.path, a.resolveDir);
			return target ? { path: target } : undefined;
		});
	},
};

// Fork sources that do not run as they are, rewritten into OUT/source-fixes (the originals stay untouched).
// FieldProperties.vue (Customize Form's field sidebar) writes `df.options = [new array]` into the reactive
// docfields while its computed reads them: Vue re-renders it forever and the page hangs as soon as a Data
// field is selected. Working on copies of the docfields (what it reads stays as it was) ends the loop.
const SOURCE_FIXES = {
	"form_builder/components/FieldProperties.vue": [
		["store.get_docfields.filter((df) => {", "store.get_docfields.map((df) => ({ ...df })).filter((df) => {"],
	],
};
const sourceFixes = {
	name: "source-fixes",
	setup(build) {
		build.onResolve({ filter: /FieldProperties\.vue$/ }, (a) => {
			const original = path.resolve(a.resolveDir, a.path);
			const key = Object.keys(SOURCE_FIXES).find((name) => original.endsWith(`/js/${name}`));
			if (!key) return undefined;
			let source = fs.readFileSync(original, "utf-8");
			for (const [from, to] of SOURCE_FIXES[key]) {
				if (!source.includes(from)) throw new Error(`source fix for ${key} no longer applies: ${from}`);
				source = source.replace(from, to);
			}
			// its relative imports point where the original lies
			source = source.replace(/from "(\.\.?\/[^"]+)"/g, (_, rel) => `from "${path.resolve(path.dirname(original), rel)}"`);
			const fixed = path.join(OUT, "source-fixes", key);
			fs.mkdirSync(path.dirname(fixed), { recursive: true });
			fs.writeFileSync(fixed, source);
			return { path: fixed };
		});
	},
};

// `import "./x.html"` registers the file as a template string, as Frappe's own build does.
const htmlTemplates = {
	name: "html-templates",
	setup(build) {
		build.onResolve({ filter: /\.html$/ }, (a) => {
			const direct = path.resolve(a.resolveDir, a.path);
			const target = fs.existsSync(direct) ? direct : renamedTarget(a.path, a.resolveDir);
			if (!target) return { errors: [{ text: `template not found: ${a.path}` }] };
			return { path: target, namespace: "html-template" };
		});
		build.onLoad({ filter: /.*/, namespace: "html-template" }, (a) => {
			const name = path.basename(a.path).split(".")[0];
			const content = fs.readFileSync(a.path, "utf-8");
			return {
				contents: `monoframe.templates[${JSON.stringify(name)}] = ${JSON.stringify(content)};\n`,
				loader: "js",
				watchFiles: [a.path],
			};
		});
	},
};

// Sass with the fork's import names: "~pkg/...", "monoframe/public/...", renamed partials.
const sassImporter = {
	findFileUrl(url, context) {
		const spec = url.startsWith("~") ? url.slice(1) : url;
		let target = renamedTarget(spec, null, STYLE_SUFFIXES);
		if (!target && context?.containingUrl?.protocol === "file:") {
			const dir = path.dirname(fileURLToPath(context.containingUrl));
			target = renamedTarget(spec.startsWith(".") ? spec : `./${spec}`, dir, STYLE_SUFFIXES);
		}
		if (!target && url.startsWith("~")) target = partial(path.join(NODE_MODULES, spec), STYLE_SUFFIXES);
		return target ? new URL(`file://${target}`) : null;
	},
};

const sassPlugin = {
	name: "sass",
	setup(build) {
		build.onLoad({ filter: /\.scss$/ }, (a) => {
			const result = sass.compile(a.path, {
				importers: [sassImporter],
				loadPaths: [NODE_MODULES, path.dirname(a.path)],
				quietDeps: true,
				silenceDeprecations: ["slash-div", "mixed-decls", "import", "global-builtin"],
				logger: sass.Logger.silent,
			});
			return {
				contents: result.css,
				loader: "css",
				resolveDir: path.dirname(a.path),
				watchFiles: result.loadedUrls.map((u) => fileURLToPath(u)),
			};
		});
	},
};

// The plugin's own sass importers are legacy-API arrays that current sass refuses; node_modules suffices.
const VUE_STYLE_OPTIONS = {
	importer: undefined,
	includePaths: [NODE_MODULES],
	loadPaths: [NODE_MODULES],
	quietDeps: true,
	logger: sass.Logger.silent,
};

function entries(suffixes) {
	const found = {};
	for (const relative of fs.readdirSync(PUBLIC, { recursive: true })) {
		if (relative.includes("node_modules") || !suffixes.some((s) => relative.endsWith(s))) continue;
		const name = path.basename(relative).replace(/\.(js|scss|css)$/, "");
		found[name] = path.join(PUBLIC, relative);
	}
	return found;
}

const common = {
	bundle: true,
	write: true,
	metafile: true,
	entryNames: "[name].[hash]",
	assetNames: "[name].[hash]",
	publicPath: URL_PREFIX,
	target: ["es2020"],
	logLevel: "warning",
	nodePaths: [NODE_MODULES],
	loader: {
		".png": "file",
		".svg": "file",
		".jpg": "file",
		".gif": "file",
		".woff": "file",
		".woff2": "file",
		".ttf": "file",
		".eot": "file",
	},
	define: {
		"process.env.NODE_ENV": '"production"',
		__VUE_OPTIONS_API__: "true",
		__VUE_PROD_DEVTOOLS__: "false",
		__VUE_PROD_HYDRATION_MISMATCH_DETAILS__: "false",
	},
};

const VUE_GLOBALS_FOOTER = `if (window.monoframe) window.frappe = window.monoframe;
if (window.SetVueGlobals && !window.SetVueGlobals.frappe_alias) {
	const setVueGlobals = window.SetVueGlobals;
	window.SetVueGlobals = (app) => {
		setVueGlobals(app);
		app.config.globalProperties.frappe = window.monoframe;
	};
	window.SetVueGlobals.frappe_alias = true;
}`;

function manifestEntries(metafile, kind, manifest) {
	for (const [output, info] of Object.entries(metafile.outputs)) {
		if (!info.entryPoint || output.endsWith(".map")) continue;
		const url = `/assets/monoframe/${path.relative(path.join(OUT, "monoframe"), output)}`;
		const base = path.basename(info.entryPoint).replace(/\.(js|scss|css)$/, "");
		const key = output.endsWith(".css") ? `${base}.css` : `${base}.js`;
		if (kind === "js" && key.endsWith(".css") && manifest[key]) continue; // SCSS entries win
		manifest[key] = url;
		if (info.cssBundle && !manifest[`${base}.css`]) {
			// the CSS of a script bundle's imports (Vue components' styles)
			manifest[`${base}.css`] = `/assets/monoframe/${path.relative(path.join(OUT, "monoframe"), info.cssBundle)}`;
		}
		// Templates ask for "monoframe-web.bundle.js" while the file on disk is frappe-web.bundle.js.
		if (key.startsWith("frappe")) manifest[key.replace(/^frappe/, "monoframe")] = url;
	}
}

const started = Date.now();
fs.rmSync(path.join(OUT, "monoframe", "dist"), { recursive: true, force: true });
fs.rmSync(path.join(OUT, "assets.json"), { force: true });
const manifest = {};
try {
	const css = await esbuild.build({
		...common,
		entryPoints: entries([".bundle.scss", ".bundle.css"]),
		outdir: path.join(OUT, "monoframe", "dist", "css"),
		plugins: [renameResolver, sassPlugin],
	});
	manifestEntries(css.metafile, "css", manifest);
	const js = await esbuild.build({
		...common,
		entryPoints: entries([".bundle.js"]),
		outdir: path.join(OUT, "monoframe", "dist", "js"),
		format: "iife",
		// The runtime defines only `monoframe`; every Frappe app (this one too) calls `frappe.`. The fork's
		// rename skipped the Vue templates (Customize Form's form builder says `frappe.utils.icon(...)`),
		// which see only the app's globalProperties: SetVueGlobals (libs.bundle) gives them `frappe` too.
		footer: { js: VUE_GLOBALS_FOOTER },
		// Vue components' styles go into their bundle and into <head> when it runs, as Frappe's build does:
		// the Desk loads only `form_builder.bundle.js` (Customize Form), never a CSS file beside it.
		plugins: [sourceFixes, renameResolver, htmlTemplates, vuePlugin({ preprocessorOptions: VUE_STYLE_OPTIONS, cssInline: true }), sassPlugin],
	});
	manifestEntries(js.metafile, "js", manifest);
} catch (error) {
	console.error(`Desk asset build failed: ${error.message.split("\n")[0]}`);
	process.exit(1);
}
// The manifest is written last: its presence means every bundle it names exists.
fs.writeFileSync(path.join(OUT, "assets.json"), JSON.stringify(manifest, null, 1));
console.log(
	`Built ${Object.keys(manifest).length} Desk bundles into ${OUT} in ${((Date.now() - started) / 1000).toFixed(1)} s`
);
