//! `cargo xtask dist`: the widget, built for size, hashed and precompressed.
//!
//! Output:
//! ```text
//! dist/manifest.json                        {"build", "js", "wasm"} read by `yinyom serve`
//! dist/assets/<build>/yinyom_widget.js      wasm-bindgen glue (ES module), + .br + .gz
//! dist/assets/<build>/yinyom_widget_bg.wasm the widget, + .br + .gz
//! dist/assets/<build>/yinyom_banner.js      the banner (widget/js/banner.js with
//!                                           banner.css and the banner's words
//!                                           (model/src/words.rs) in it, minified: a
//!                                           classic script), + .br + .gz; the server
//!                                           serves it per site with the banner texts
//!                                           filled in (routes/loader.rs)
//! dist/assets/<build>/yinyom_forms.js       consent on forms (widget/js/forms.js, minified;
//!                                           imported only by pages with a form), + .br + .gz
//! dist/loader-<hash>.min.js                 widget/js/loader.js minified by terser
//! ```
//! `<build>` is a hash of the four files, so the URLs are immutable and cache forever.
//! It is 16 lower-case hex characters (8 bytes of SHA-256): the receipt API refuses any
//! other `widget` (`yinyom_model::receipt::is_build_id`).
//! `<hash>` is the first 16 hex digits of the SHA-256 of `widget/js/loader.js`: the server
//! serves the minified loader only when it was made from the source it was built with
//! (`server/src/routes/loader.rs`), and otherwise strips comments itself. terser (plain
//! JavaScript, from npm) is installed into `target/terser` on first use.

use crate::tools::{self, WASM_OPT_FEATURES, run as exec};
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::{fs, io::Write, path::Path, process::Command};

/// Sizes of one shipped file.
pub(crate) struct Sizes {
    pub(crate) name: String,
    pub(crate) raw: usize,
    pub(crate) gzip: usize,
    pub(crate) brotli: usize,
}

/// Builds the widget into `dist/`, prints and returns the sizes of its files.
pub(crate) fn run() -> Result<Vec<Sizes>> {
    let root = crate::root();
    tools::ensure_wasm_target()?;
    tools::ensure_wasm_bindgen()?;
    tools::ensure_wasm_opt()?;

    eprintln!("xtask: building the widget (wasm32, profile wasm-release)");
    exec(Command::new("cargo").current_dir(&root).args([
        "build",
        "--package",
        "yinyom-widget",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
    ]))?;
    let built = root.join("target/wasm32-unknown-unknown/wasm-release/yinyom_widget.wasm");
    // wasm-opt runs on rustc's output, before wasm-bindgen: Debian's binaryen 108 breaks
    // the externref table that wasm-bindgen adds ("WebAssembly.Table.set(): Argument 1 is
    // invalid for table") when run afterwards.
    let optimized = root.join("target/wasm32-unknown-unknown/wasm-release/yinyom_widget.opt.wasm");
    let status = Command::new("wasm-opt")
        .arg("-Oz")
        .args(WASM_OPT_FEATURES)
        .arg(&built)
        .arg("-o")
        .arg(&optimized)
        .status()
        .context("cannot run wasm-opt")?;
    if !status.success() {
        anyhow::bail!(
            "wasm-opt could not read the widget's wasm. It needs binaryen 108 or newer \
             (Debian: apt-get install binaryen)"
        );
    }
    let bindgen_out = root.join("target/wasm-bindgen");
    let _ = fs::remove_dir_all(&bindgen_out);
    exec(
        Command::new("wasm-bindgen")
            .arg(&optimized)
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                "yinyom_widget",
                "--out-dir",
            ])
            .arg(&bindgen_out),
    )?;
    let wasm = bindgen_out.join("yinyom_widget_bg.wasm");

    let js = fs::read(bindgen_out.join("yinyom_widget.js"))?;
    let wasm = fs::read(&wasm)?;
    let terser = terser(&root)?;
    let banner = banner_script(&root, &terser)?;
    let forms = forms_module(&root, &terser)?;
    let mut h = Sha256::new();
    h.update(&js);
    h.update(&wasm);
    h.update(&banner);
    h.update(&forms);
    let build = hex::encode(&h.finalize()[..8]);

    let dist = root.join("dist");
    let _ = fs::remove_dir_all(dist.join("assets"));
    let loader = minify_loader(&root, &terser, &dist)?;
    let dir = dist.join("assets").join(&build);
    fs::create_dir_all(&dir)?;
    let mut sizes = Vec::new();
    for (name, bytes) in [
        ("yinyom_widget.js", &js),
        ("yinyom_widget_bg.wasm", &wasm),
        ("yinyom_banner.js", &banner),
        ("yinyom_forms.js", &forms),
    ] {
        sizes.push(write_compressed(&dir, name, bytes)?);
    }
    let manifest = serde_json::json!({
        "build": build,
        "js": format!("{build}/yinyom_widget.js"),
        "wasm": format!("{build}/yinyom_widget_bg.wasm"),
    });
    fs::write(
        dist.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest)?,
    )?;

    println!("widget build {build} in {}", dir.display());
    println!("{:<28} {:>9} {:>9} {:>9}", "file", "raw", "gzip", "brotli");
    for s in &sizes {
        println!("{:<28} {:>9} {:>9} {:>9}", s.name, s.raw, s.gzip, s.brotli);
    }
    let total = |f: fn(&Sizes) -> usize| sizes.iter().map(f).sum::<usize>();
    println!(
        "{:<28} {:>9} {:>9} {:>9}   (per site config added when served)",
        "loader.min.js", loader.raw, loader.gzip, loader.brotli
    );
    println!(
        "{:<28} {:>9} {:>9} {:>9}",
        "total",
        total(|s| s.raw),
        total(|s| s.gzip),
        total(|s| s.brotli)
    );
    Ok(sizes)
}

/// terser's version: pinned, so a build is reproducible.
const TERSER: &str = "terser@5.36.0";

/// terser's command line script, installed into `target/terser` on first use.
fn terser(root: &Path) -> Result<std::path::PathBuf> {
    let prefix = root.join("target/terser");
    let bin = prefix.join("node_modules/terser/bin/terser");
    if !bin.is_file() {
        tools::npm_install(&prefix, TERSER)?;
    }
    Ok(bin)
}

/// `widget/js/banner.js` with `widget/js/banner.css` in place of `__YINYOM_CSS__` and the
/// banner's words (`yinyom_model::words`, which the widget uses too) in place of
/// `__YINYOM_WORDS__`, minified (a classic script; the server fills `__YINYOM_TEXTS__`).
fn banner_script(root: &Path, terser: &Path) -> Result<Vec<u8>> {
    let css = fs::read_to_string(root.join("widget/js/banner.css"))?;
    let source = fs::read_to_string(root.join("widget/js/banner.js"))?;
    let tmp = root.join("target/terser/banner.js");
    fs::create_dir_all(root.join("target/terser"))?;
    fs::write(&tmp, banner_source(&source, &css)?)?;
    let out = root.join("target/terser/banner.min.js");
    minify(terser, &tmp, &out, false)?;
    let min = fs::read(&out)?;
    anyhow::ensure!(
        String::from_utf8_lossy(&min).contains("__YINYOM_TEXTS__"),
        "terser lost the banner's __YINYOM_TEXTS__ placeholder"
    );
    Ok(min)
}

/// `widget/js/forms.js` (consent on forms, imported by the loader only on a page with a
/// `data-yinyom-form`), minified (an ES module).
fn forms_module(root: &Path, terser: &Path) -> Result<Vec<u8>> {
    fs::create_dir_all(root.join("target/terser"))?;
    let out = root.join("target/terser/forms.min.js");
    minify(terser, &root.join("widget/js/forms.js"), &out, true)?;
    Ok(fs::read(&out)?)
}

/// The banner's source with its build-time constants filled in.
fn banner_source(source: &str, css: &str) -> Result<String> {
    let css = css.lines().map(str::trim).collect::<String>();
    let words = serde_json::to_string(&yinyom_model::words::BannerWords::all())?;
    let mut out = source.to_owned();
    for (slot, value) in [
        ("const CSS = __YINYOM_CSS__;", serde_json::to_string(&css)?),
        ("const WORDS = __YINYOM_WORDS__;", words),
    ] {
        anyhow::ensure!(out.contains(slot), "widget/js/banner.js has no `{slot}`");
        let name = slot.split(' ').nth(1).unwrap_or_default();
        out = out.replacen(slot, &format!("const {name} = {value};"), 1);
    }
    Ok(out)
}

/// Runs terser on `input` (an ES module when `module`) into `output`.
fn minify(terser: &Path, input: &Path, output: &Path, module: bool) -> Result<()> {
    let mut cmd = Command::new("node");
    cmd.arg(terser).arg(input);
    if module {
        cmd.arg("--module");
    }
    cmd.args([
        "--compress",
        "passes=2",
        "--mangle",
        "--comments",
        "false",
        "--output",
    ])
    .arg(output);
    exec(&mut cmd).context("terser")
}

/// Minifies the loader into `dist/loader-<hash>.min.js` (removing older ones) and returns
/// its sizes (the brotli and gzip copies are not kept: the server compresses the loader
/// with the site's config in it).
fn minify_loader(root: &Path, bin: &Path, dist: &Path) -> Result<Sizes> {
    let source_path = root.join("widget/js/loader.js");
    let source = fs::read(&source_path)?;
    let hash = hex::encode(Sha256::digest(&source))[..16].to_owned();
    fs::create_dir_all(dist)?;
    for old in fs::read_dir(dist)?.flatten() {
        let name = old.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("loader-") && name.ends_with(".min.js") {
            fs::remove_file(old.path())?;
        }
    }
    let out = dist.join(format!("loader-{hash}.min.js"));
    minify(bin, &source_path, &out, false)?;
    let min = fs::read(&out)?;
    anyhow::ensure!(
        String::from_utf8_lossy(&min).contains("__YINYOM_CONFIG__"),
        "terser lost the loader's __YINYOM_CONFIG__ placeholder"
    );
    let mut sizes = compressed_sizes(&min)?;
    sizes.name = "loader.min.js".to_owned();
    Ok(sizes)
}

/// Writes `name`, `name.gz` and `name.br` into `dir`.
fn write_compressed(dir: &Path, name: &str, bytes: &[u8]) -> Result<Sizes> {
    fs::write(dir.join(name), bytes)?;
    let (gz, br) = compress(bytes)?;
    fs::write(dir.join(format!("{name}.gz")), &gz)?;
    fs::write(dir.join(format!("{name}.br")), &br)?;
    Ok(Sizes {
        name: name.to_owned(),
        raw: bytes.len(),
        gzip: gz.len(),
        brotli: br.len(),
    })
}

/// The sizes `bytes` would have, raw and compressed.
fn compressed_sizes(bytes: &[u8]) -> Result<Sizes> {
    let (gz, br) = compress(bytes)?;
    Ok(Sizes {
        name: String::new(),
        raw: bytes.len(),
        gzip: gz.len(),
        brotli: br.len(),
    })
}

/// `bytes` gzipped and brotli-compressed, both at their best.
fn compress(bytes: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes)?;
    let gz = gz.finish()?;
    let mut br = Vec::new();
    {
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 22,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &bytes[..], &mut br, &params)?;
    }
    Ok((gz, br))
}

#[cfg(test)]
mod tests {
    use super::banner_source;
    use yinyom_model::{Lang, words::BannerWords};

    /// The built banner gets the stylesheet and every word of both languages from the one
    /// definition the widget uses; nothing is left to fill.
    #[test]
    fn the_banner_gets_its_css_and_the_widgets_words() {
        let source =
            std::fs::read_to_string(crate::root().join("widget/js/banner.js")).expect("banner.js");
        let built = banner_source(&source, ".banner {\n  color: red;\n}").expect("filled");
        assert!(!built.contains("= __YINYOM_"), "a slot is left");
        assert!(
            built.contains("})(__YINYOM_TEXTS__);"),
            "the server's slot stays"
        );
        assert!(built.contains(r#"const CSS = ".banner {color: red;}";"#));
        for lang in Lang::ALL {
            let w = BannerWords::of(lang);
            for word in [
                w.switch_lang,
                w.read_notice,
                w.reject_all,
                w.choose,
                w.accept_all,
                w.and,
            ] {
                assert!(built.contains(&format!("\"{word}\"")), "{word}");
            }
            let gpc = serde_json::to_string(w.gpc_note).expect("json");
            assert!(built.contains(&gpc), "{gpc}");
        }
    }
}
