//! Responses compressed once at the best levels and cached by ETag: the loader (fetched on
//! every page view) and the widget's notice. Dynamic compression at request time would
//! use fast, weaker levels.

use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderName, HeaderValue, header},
    response::{IntoResponse, Response},
};
use std::{
    collections::HashMap,
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

struct Packed {
    raw: Bytes,
    gzip: Option<Bytes>,
    br: Option<Bytes>,
}

fn packed(etag: &str, raw: Vec<u8>) -> Arc<Packed> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Packed>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(hit) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(etag) {
        return hit.clone();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let gzip = gz.write_all(&raw).and_then(|()| gz.finish()).ok();
    let mut br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    let br = brotli::BrotliCompress(&mut &raw[..], &mut br, &params)
        .ok()
        .map(|_| br);
    let p = Arc::new(Packed {
        gzip: gzip.map(Into::into),
        br: br.map(Into::into),
        raw: raw.into(),
    });
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() > 512 {
        map.clear();
    }
    map.insert(etag.to_owned(), p.clone());
    p
}

/// `body` (identified by `etag`) in the best encoding the client accepts, with `headers`.
pub(crate) fn respond<const N: usize>(
    req: &HeaderMap,
    etag: &str,
    headers: [(HeaderName, String); N],
    body: Vec<u8>,
) -> Response {
    let p = packed(etag, body);
    let accepts = |enc: &str| {
        req.get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .any(|e| e.trim().split(';').next() == Some(enc))
            })
    };
    let (encoding, bytes) = match (&p.br, &p.gzip) {
        (Some(br), _) if accepts("br") => (Some("br"), br.clone()),
        (_, Some(gz)) if accepts("gzip") => (Some("gzip"), gz.clone()),
        _ => (None, p.raw.clone()),
    };
    let mut res = (headers, bytes).into_response();
    if let Some(enc) = encoding {
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
    }
    res.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    res
}
