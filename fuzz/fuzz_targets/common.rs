// Shared by the targets: one fuzz input split into a short "meta" part (a
// content type, a header, a secret) and the body, at the first NUL byte.
pub fn split(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&[], data),
    }
}

pub fn headers(pairs: &[(reqwest::header::HeaderName, &[u8])]) -> reqwest::header::HeaderMap {
    let mut map = reqwest::header::HeaderMap::new();
    for (name, value) in pairs {
        if let Ok(v) = reqwest::header::HeaderValue::from_bytes(value) {
            map.insert(name.clone(), v);
        }
    }
    map
}
