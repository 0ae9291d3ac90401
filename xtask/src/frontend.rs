//! `cargo xtask frontend`: vendors the NHS.UK frontend (the styles and
//! scripts of haven-server's pages) and axe-core (the accessibility checker
//! its browser tests inject) from npm, at the versions pinned below.
//!
//! Each package is fetched with `npm pack NAME@VERSION --json` into a
//! temporary folder and unpacked with `tar`; only what is served (or
//! injected) is copied, with the licence, and a `VERSIONS` file records the
//! package, version, npm tarball integrity and the SHA-256 of every file, in
//! `sha256sum` format (`sha256sum -c VERSIONS` in the folder checks it; the
//! `#` lines are comments to it). Each target folder is written as a hidden
//! sibling first and renamed into place only when both packages are ready, so
//! a failed refresh leaves the old files. The tests below fail if a vendored
//! file is edited by hand, added or removed without running this again.
//!
//! To upgrade: change a version constant, run `cargo xtask frontend`, and
//! look at the diff (a new upstream layout fails here with a clear message).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The NHS.UK frontend's npm package and pinned version.
pub const NHSUK_FRONTEND: (&str, &str) = ("nhsuk-frontend", "10.6.1");
/// axe-core's npm package and pinned version.
pub const AXE_CORE: (&str, &str) = ("axe-core", "4.14.1");

/// Where the NHS.UK frontend goes, from the workspace root (served by
/// haven-server, e.g. at `/assets/nhsuk-frontend/`).
pub const NHSUK_FRONTEND_DIR: &str = "crates/haven-server/assets/nhsuk-frontend";
/// Where axe-core goes, from the workspace root (test-only).
pub const AXE_CORE_DIR: &str = "crates/haven-server/tests/assets/axe-core";

/// The record of what was vendored, in each target folder.
const VERSIONS: &str = "VERSIONS";

/// The frontend's npm tarball carries no licence file (its LICENSE sits at
/// the root of the upstream monorepo); package.json says `"license": "MIT"`,
/// and this is that repository's LICENSE, word for word. Used only when the
/// package has no LICENSE of its own and its package.json still says MIT.
const NHSUK_FRONTEND_MIT_LICENSE: &str = "MIT License

Copyright (c) 2019 NHS.UK

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the \"Software\"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
";

/// The frontend's compiled CSS names its images by absolute URL
/// (`url(/assets/images/…)`, its Sass `$nhsuk-assets-path` default). The
/// vendored copy makes them relative (`url(assets/images/…)`) so the folder
/// works wherever it is served; the images keep the package's layout
/// (`dist/nhsuk/assets/…` beside `dist/nhsuk/nhsuk-frontend.min.css`).
const CSS_ASSET_PREFIX: (&str, &str) = ("url(/assets/", "url(assets/");

/// One file to vendor: its path in the target folder (with `/`), its bytes,
/// and a note for `VERSIONS` when it is not the package's file unchanged.
struct Vendored {
    path: String,
    bytes: Vec<u8>,
    note: Option<String>,
}

/// Picks, from an unpacked package folder, the files to vendor.
type Select = fn(&Path) -> Result<Vec<Vendored>, String>;

/// What `npm pack --json` said about a tarball.
struct Packed {
    filename: String,
    integrity: String,
}

/// `cargo xtask frontend`.
pub fn run(root: &Path) -> ExitCode {
    match refresh(root) {
        Ok(report) => {
            for line in report {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xtask frontend: {e}");
            eprintln!("xtask frontend: the vendored files were left as they were");
            ExitCode::FAILURE
        }
    }
}

/// Fetches both packages, stages both target folders, then swaps them in.
fn refresh(root: &Path) -> Result<Vec<String>, String> {
    let work = std::env::temp_dir().join(format!("haven-xtask-frontend-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
    let jobs: [(&str, &str, &str, Select); 2] = [
        (NHSUK_FRONTEND.0, NHSUK_FRONTEND.1, NHSUK_FRONTEND_DIR, select_nhsuk_frontend),
        (AXE_CORE.0, AXE_CORE.1, AXE_CORE_DIR, select_axe_core),
    ];
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| {
        let mut report = Vec::new();
        for (name, version, dir, select) in jobs {
            let unpacked = work.join(name);
            std::fs::create_dir_all(&unpacked).map_err(|e| format!("creating {}: {e}", unpacked.display()))?;
            let packed = npm_pack(name, version, &unpacked)?;
            run_command(Command::new("tar").arg("-xzf").arg(&packed.filename).current_dir(&unpacked))?;
            let files = select(&unpacked.join("package"))?;
            let target = root.join(dir);
            let stage = sibling(&target, "new")?;
            staged.push((stage.clone(), target.clone()));
            write_stage(&stage, name, version, &packed, &files)?;
            let total: usize = files.iter().map(|f| f.bytes.len()).sum();
            report.push(format!("{name} {version}: {} files, {total} bytes -> {dir}", files.len()));
        }
        for (stage, target) in &staged {
            swap_in(stage, target)?;
        }
        Ok(report)
    })();
    for (stage, _) in &staged {
        let _ = std::fs::remove_dir_all(stage);
    }
    let _ = std::fs::remove_dir_all(&work);
    result
}

/// `npm pack NAME@VERSION --json` in `dir`.
fn npm_pack(name: &str, version: &str, dir: &Path) -> Result<Packed, String> {
    let out = Command::new("npm")
        .args(["pack", &format!("{name}@{version}"), "--json"])
        .current_dir(dir)
        .output()
        .map_err(|e| format!("could not start npm (is Node.js installed?): {e}"))?;
    if !out.status.success() {
        return Err(format!("npm pack {name}@{version} failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let json = String::from_utf8_lossy(&out.stdout);
    let field = |key: &str| json_string_field(&json, key).ok_or_else(|| format!("npm pack --json gave no \"{key}\" for {name}"));
    let (got_name, got_version) = (field("name")?, field("version")?);
    if got_name != name || got_version != version {
        return Err(format!("npm pack gave {got_name}@{got_version}, not {name}@{version}"));
    }
    let packed = Packed { filename: field("filename")?, integrity: field("integrity")? };
    if packed.filename.contains('/') || !dir.join(&packed.filename).is_file() {
        return Err(format!("npm pack did not leave {} in {}", packed.filename, dir.display()));
    }
    Ok(packed)
}

/// The first `"key": "value"` string in a JSON text (npm's output is flat
/// enough for this: the tarball's fields come before its file list, which
/// has no string values).
fn json_string_field(json: &str, key: &str) -> Option<String> {
    let after_key = &json[json.find(&format!("\"{key}\""))? + key.len() + 2..];
    let after_colon = after_key.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    Some(after_colon[..after_colon.find('"')?].to_string())
}

fn read(package: &Path, rel: &str) -> Result<Vec<u8>, String> {
    std::fs::read(package.join(rel))
        .map_err(|e| format!("{rel} is not in the package ({e}); its layout changed, so update xtask/src/frontend.rs"))
}

/// From nhsuk-frontend: the minified CSS (asset URLs made relative) and JS,
/// the static assets (the images the CSS and the page template name, and
/// the web app manifest), and the licence. Not the source maps, the Sass,
/// the Nunjucks templates or the unminified and dynamic-type builds.
fn select_nhsuk_frontend(package: &Path) -> Result<Vec<Vendored>, String> {
    let css = String::from_utf8(read(package, "dist/nhsuk/nhsuk-frontend.min.css")?).map_err(|e| format!("CSS is not UTF-8: {e}"))?;
    let (from, to) = CSS_ASSET_PREFIX;
    let rewritten = css.replace(from, to);
    let mut files = vec![
        Vendored {
            path: "nhsuk-frontend.min.css".into(),
            note: Some(format!(
                "`{from}` made `{to}` ({} times; upstream dist/nhsuk/nhsuk-frontend.min.css has sha256 {})",
                css.matches(from).count(),
                sha256_of_bytes(css.as_bytes())?
            )),
            bytes: rewritten.clone().into_bytes(),
        },
        Vendored { path: "nhsuk-frontend.min.js".into(), bytes: read(package, "dist/nhsuk/nhsuk-frontend.min.js")?, note: None },
    ];
    let assets = package.join("dist/nhsuk/assets");
    let listed = files_under(&assets);
    if listed.is_empty() {
        return Err("dist/nhsuk/assets is missing or empty; the layout changed, so update xtask/src/frontend.rs".into());
    }
    for rel in listed {
        let bytes = read(&assets, &rel)?;
        files.push(Vendored { path: format!("assets/{rel}"), bytes, note: None });
    }
    match std::fs::read(package.join("LICENSE")) {
        Ok(bytes) => files.push(Vendored { path: "LICENSE".into(), bytes, note: None }),
        Err(_) => {
            let manifest = String::from_utf8_lossy(&read(package, "package.json")?).to_string();
            if json_string_field(&manifest, "license").as_deref() != Some("MIT") {
                return Err("nhsuk-frontend ships no LICENSE and its package.json no longer says MIT; check its licence".into());
            }
            files.push(Vendored {
                path: "LICENSE".into(),
                bytes: NHSUK_FRONTEND_MIT_LICENSE.as_bytes().to_vec(),
                note: Some("not in the npm tarball; package.json says MIT; text of the upstream repository's LICENSE".into()),
            });
        }
    }
    let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let unresolved = unresolved_css_urls(&rewritten, &paths);
    if !unresolved.is_empty() {
        return Err(format!("the CSS names files that would not be served: {}", unresolved.join(", ")));
    }
    Ok(files)
}

/// From axe-core: the minified script and its licences (MPL-2.0, and the
/// MIT notices of what it bundles).
fn select_axe_core(package: &Path) -> Result<Vec<Vendored>, String> {
    ["axe.min.js", "LICENSE", "LICENSE-3RD-PARTY.txt"]
        .into_iter()
        .map(|rel| Ok(Vendored { path: rel.into(), bytes: read(package, rel)?, note: None }))
        .collect()
}

/// The `url(…)` targets in `css` that are neither remote (`https:`), inline
/// (`data:`), a fragment, nor one of `files` (relative to the CSS's folder).
fn unresolved_css_urls(css: &str, files: &[&str]) -> Vec<String> {
    let mut bad = Vec::new();
    for piece in css.split("url(").skip(1) {
        let target = piece[..piece.find(')').unwrap_or(piece.len())].trim().trim_matches(['"', '\'']);
        let path = target.split(['?', '#']).next().unwrap_or("");
        let ok = target.starts_with("https://") || target.starts_with("data:") || target.starts_with('#') || files.contains(&path);
        if !ok && !bad.iter().any(|b| b == target) {
            bad.push(target.to_string());
        }
    }
    bad
}

/// `target`'s hidden sibling for a staged (`new`) or retired (`old`) copy.
fn sibling(target: &Path, suffix: &str) -> Result<PathBuf, String> {
    let name = target.file_name().ok_or_else(|| format!("{} has no folder name", target.display()))?;
    Ok(target.with_file_name(format!(".{}.{suffix}", name.to_string_lossy())))
}

/// Writes the files and their `VERSIONS` into a fresh `stage` folder.
fn write_stage(stage: &Path, name: &str, version: &str, packed: &Packed, files: &[Vendored]) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(stage);
    for f in files {
        if f.path.split('/').any(|part| part.is_empty() || part == "." || part == "..")
            || !f.path.chars().all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
            || f.path == VERSIONS
        {
            return Err(format!("refusing to vendor a file named {:?}", f.path));
        }
        let dest = stage.join(&f.path);
        std::fs::create_dir_all(dest.parent().expect("inside the stage")).map_err(|e| format!("creating {}: {e}", dest.display()))?;
        std::fs::write(&dest, &f.bytes).map_err(|e| format!("writing {}: {e}", dest.display()))?;
    }
    let mut paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    paths.sort();
    let sums = sha256_files(stage, &paths)?;
    let mut text = format!(
        "# Vendored by `cargo xtask frontend` (xtask/src/frontend.rs): do not edit by hand;\n\
         # change the pinned version there and run it again. `sha256sum -c VERSIONS` checks this folder.\n\
         # package: {name}\n\
         # version: {version}\n\
         # integrity: {}\n",
        packed.integrity
    );
    for f in files.iter().filter(|f| f.note.is_some()) {
        text.push_str(&format!("# changed: {}: {}\n", f.path, f.note.as_deref().unwrap_or_default()));
    }
    for (path, sum) in paths.iter().zip(&sums) {
        text.push_str(&format!("{sum}  {path}\n"));
    }
    std::fs::write(stage.join(VERSIONS), text).map_err(|e| format!("writing {VERSIONS}: {e}"))
}

/// Renames `stage` to `target`, keeping the old `target` until that worked
/// (and putting it back if it did not).
fn swap_in(stage: &Path, target: &Path) -> Result<(), String> {
    let old = sibling(target, "old")?;
    let _ = std::fs::remove_dir_all(&old);
    let had_old = target.exists();
    if had_old {
        std::fs::rename(target, &old).map_err(|e| format!("moving {} aside: {e}", target.display()))?;
    } else if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
    }
    if let Err(e) = std::fs::rename(stage, target) {
        if had_old {
            let _ = std::fs::rename(&old, target);
        }
        return Err(format!("moving the new files into {}: {e}", target.display()));
    }
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// The SHA-256 (lower-case hex) of each of `paths`, relative to `dir`, in
/// order, by `sha256sum` (xtask has no dependencies to bring one in).
fn sha256_files(dir: &Path, paths: &[String]) -> Result<Vec<String>, String> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let out = Command::new("sha256sum")
        .arg("--")
        .args(paths)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("could not start sha256sum: {e}"))?;
    if !out.status.success() {
        return Err(format!("sha256sum failed in {}: {}", dir.display(), String::from_utf8_lossy(&out.stderr).trim()));
    }
    let sums: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(|l| l.split_whitespace().next().unwrap_or("").to_string()).collect();
    if sums.len() != paths.len() || sums.iter().any(|s| s.len() != 64 || !s.chars().all(|c| c.is_ascii_hexdigit())) {
        return Err(format!("unexpected sha256sum output in {}", dir.display()));
    }
    Ok(sums)
}

/// The SHA-256 of some bytes, by `sha256sum` on its standard input.
fn sha256_of_bytes(bytes: &[u8]) -> Result<String, String> {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start sha256sum: {e}"))?;
    child.stdin.take().expect("piped").write_all(bytes).map_err(|e| format!("writing to sha256sum: {e}"))?;
    let out = child.wait_with_output().map_err(|e| format!("sha256sum: {e}"))?;
    let sum = String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or("").to_string();
    if !out.status.success() || sum.len() != 64 {
        return Err("sha256sum failed on the CSS".into());
    }
    Ok(sum)
}

/// Every file under `dir`, relative to it with `/`, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = crate::tidy::files(dir)
        .iter()
        .filter_map(|p| p.strip_prefix(dir).ok())
        .map(|rel| rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"))
        .collect();
    out.sort();
    out
}

fn run_command(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| format!("could not start {shown}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(key, value)` or `(sha256, path)` pairs.
    type Pairs = Vec<(String, String)>;

    /// The `# key: value` header lines and `(sha256, path)` entries of a
    /// `VERSIONS` file.
    fn parse_versions(text: &str) -> (Pairs, Pairs) {
        let (mut header, mut entries) = (Vec::new(), Vec::new());
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if let Some(comment) = line.strip_prefix("# ") {
                if let Some((k, v)) = comment.split_once(": ") {
                    header.push((k.to_string(), v.to_string()));
                }
            } else {
                let (sum, path) = line.split_once("  ").unwrap_or_else(|| panic!("malformed VERSIONS line {line:?}"));
                entries.push((sum.to_string(), path.to_string()));
            }
        }
        (header, entries)
    }

    /// Every vendored file is listed in its folder's `VERSIONS` with the
    /// SHA-256 it has on disk, nothing unlisted is there, and the record is
    /// of the pinned version: a hand edit, a stray file or a version bump
    /// without `cargo xtask frontend` fails here.
    #[test]
    fn vendored_files_match_their_versions_record() {
        let root = crate::tidy::workspace_root();
        for ((name, version), dir) in [(NHSUK_FRONTEND, NHSUK_FRONTEND_DIR), (AXE_CORE, AXE_CORE_DIR)] {
            let folder = root.join(dir);
            let text = std::fs::read_to_string(folder.join(VERSIONS))
                .unwrap_or_else(|e| panic!("{dir}/{VERSIONS}: {e}; run `cargo xtask frontend`"));
            let (header, entries) = parse_versions(&text);
            let get = |k: &str| header.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
            assert_eq!(get("package"), Some(name), "{dir}/{VERSIONS}");
            assert_eq!(get("version"), Some(version), "{dir}/{VERSIONS} is not of the pinned version; run `cargo xtask frontend`");
            assert!(get("integrity").is_some_and(|i| i.starts_with("sha512-")), "{dir}/{VERSIONS} lacks the npm integrity");
            assert!(entries.iter().any(|(_, p)| p == "LICENSE"), "{dir} has no LICENSE");
            let listed: Vec<String> = entries.iter().map(|(_, p)| p.clone()).collect();
            let on_disk = sha256_files(&folder, &listed).unwrap_or_else(|e| panic!("{dir}: {e}"));
            for ((want, path), got) in entries.iter().zip(&on_disk) {
                assert_eq!(got, want, "{dir}/{path} differs from its VERSIONS record (edited by hand? run `cargo xtask frontend`)");
            }
            let mut present = files_under(&folder);
            present.retain(|p| p != VERSIONS);
            let mut sorted = listed.clone();
            sorted.sort();
            assert_eq!(present, sorted, "{dir} holds files its VERSIONS does not list, or lacks some it does");
        }
    }

    /// The server can link the two files it needs, and every image the CSS
    /// names is vendored beside it.
    #[test]
    fn the_vendored_css_names_only_vendored_assets() {
        let folder = crate::tidy::workspace_root().join(NHSUK_FRONTEND_DIR);
        let css = std::fs::read_to_string(folder.join("nhsuk-frontend.min.css")).expect("vendored CSS");
        assert!(folder.join("nhsuk-frontend.min.js").is_file());
        let files = files_under(&folder);
        let paths: Vec<&str> = files.iter().map(String::as_str).collect();
        assert_eq!(unresolved_css_urls(&css, &paths), Vec::<String>::new());
        assert!(!css.contains(CSS_ASSET_PREFIX.0), "the CSS still names assets by absolute URL");
        assert!(css.contains(CSS_ASSET_PREFIX.1), "the CSS names no vendored asset; was the rewrite dropped?");
    }

    #[test]
    fn css_urls_are_checked_against_the_vendored_files() {
        let css = "a{background:url(assets/images/a.svg)}b{src:url(https://x/f.woff2)}c{background:url(\"data:image/png;base64,AA\")}\
                   d{background:url(/assets/images/b.svg)}e{mask:url('assets/images/c.svg?v=1')}";
        assert_eq!(unresolved_css_urls(css, &["assets/images/a.svg", "assets/images/c.svg"]), vec!["/assets/images/b.svg"]);
    }

    #[test]
    fn npm_pack_json_fields_are_read() {
        let json = "[\n  {\n    \"id\": \"x@1.2.3\",\n    \"name\": \"x\",\n    \"version\": \"1.2.3\",\n    \"integrity\" : \"sha512-AbC==\",\n    \"filename\": \"x-1.2.3.tgz\",\n    \"files\": [{\"path\": \"LICENSE\", \"size\": 1}]\n  }\n]";
        assert_eq!(json_string_field(json, "name").as_deref(), Some("x"));
        assert_eq!(json_string_field(json, "integrity").as_deref(), Some("sha512-AbC=="));
        assert_eq!(json_string_field(json, "filename").as_deref(), Some("x-1.2.3.tgz"));
        assert_eq!(json_string_field(json, "missing"), None);
    }

    #[test]
    fn a_failed_swap_keeps_the_old_files() {
        let base = std::env::temp_dir().join(format!("haven-xtask-swap-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let target = base.join("vendored");
        std::fs::create_dir_all(&target).unwrap();
        std::fs::write(target.join("old.txt"), "old").unwrap();
        // No staged folder: the rename fails, and the old files are put back.
        assert!(swap_in(&base.join(".vendored.new"), &target).is_err());
        assert_eq!(std::fs::read_to_string(target.join("old.txt")).unwrap(), "old");
        let stage = sibling(&target, "new").unwrap();
        std::fs::create_dir_all(&stage).unwrap();
        std::fs::write(stage.join("new.txt"), "new").unwrap();
        swap_in(&stage, &target).unwrap();
        assert_eq!(files_under(&base), vec!["vendored/new.txt"]);
        std::fs::remove_dir_all(&base).unwrap();
    }
}
