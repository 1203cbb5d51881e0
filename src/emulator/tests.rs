//! End-to-end tests: a started emulator on 127.0.0.1 driven with reqwest.

use bytes::Bytes;
use serde_json::{json, Value};

use super::{Emulator, EmulatorOptions, Fault, DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRpng-body";

struct Harness {
    emu: Emulator,
    http: reqwest::Client,
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn errcode(&self) -> i64 {
        self.json()["errcode"].as_i64().unwrap_or(i64::MIN)
    }
}

impl Harness {
    async fn start() -> Harness {
        Self::with(EmulatorOptions::default()).await
    }

    async fn with(opts: EmulatorOptions) -> Harness {
        let emu = Emulator::start(opts).await.expect("emulator starts");
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("reqwest client");
        Harness { emu, http }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.url())
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("request answered");
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.bytes().await.expect("body read"),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(self.http.get(self.url(path))).await
    }

    async fn post_json(&self, path: &str, body: &Value) -> Answer {
        self.send(self.http.post(self.url(path)).body(body.to_string()))
            .await
    }

    async fn post_multipart(&self, path: &str, parts: &[Part<'_>]) -> Answer {
        let request = self
            .http
            .post(self.url(path))
            .header("content-type", "multipart/form-data; boundary=EmuBoundary")
            .body(multipart(parts));
        self.send(request).await
    }

    async fn upload(&self, token: &str, kind: &str, parts: &[Part<'_>]) -> Answer {
        let path = format!("/cgi-bin/media/upload?access_token={token}&type={kind}");
        self.post_multipart(&path, parts).await
    }

    async fn legacy_token(&self) -> String {
        let path = format!(
            "/cgi-bin/token?grant_type=client_credential&appid={DEFAULT_APPID}&secret={DEFAULT_SECRET}"
        );
        let answer = self.get(&path).await;
        answer.json()["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

struct Part<'a> {
    disposition: String,
    content_type: Option<&'a str>,
    data: &'a [u8],
}

fn field<'a>(name: &str, value: &'a str) -> Part<'a> {
    Part {
        disposition: format!("form-data; name=\"{name}\""),
        content_type: None,
        data: value.as_bytes(),
    }
}

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(b"--EmuBoundary\r\n");
        body.extend_from_slice(format!("Content-Disposition: {}\r\n", part.disposition).as_bytes());
        if let Some(ct) = part.content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(part.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--EmuBoundary--\r\n");
    body
}

fn media_part<'a>(filename: &'a str, data: &'a [u8]) -> Part<'a> {
    Part {
        disposition: format!("form-data; name=\"media\"; filename=\"{filename}\""),
        content_type: Some("image/png"),
        data,
    }
}

#[tokio::test]
async fn legacy_token_lifecycle() {
    let h = Harness::start().await;
    let first = h.legacy_token().await;
    assert!(first.starts_with("EMU_") && first.len() >= 100);
    let second = h.legacy_token().await;
    assert_ne!(first, second);

    let parts = [media_part("a.png", PNG)];
    let in_grace = h.upload(&first, "image", &parts).await;
    assert_eq!(in_grace.errcode(), 0, "old token in grace");
    h.emu.advance_clock(300_001);
    let past_grace = h.upload(&first, "image", &parts).await;
    assert_eq!(past_grace.errcode(), 40001, "old token past grace");
    assert_eq!(h.upload(&second, "image", &parts).await.errcode(), 0);
    h.emu.expire_tokens();
    assert_eq!(h.upload(&second, "image", &parts).await.errcode(), 42001);
    assert_eq!(h.emu.stats()["tokenFetches"], 2);
}

#[tokio::test]
async fn token_endpoint_errors() {
    let h = Harness::start().await;
    let cases = [
        ("grant_type=password&appid=x&secret=y", 40002),
        ("grant_type=client_credential&appid=nobody&secret=y", 40013),
        (
            &*format!("grant_type=client_credential&appid={DEFAULT_APPID}&secret=wrong"),
            40125,
        ),
    ];
    for (query, code) in cases {
        let answer = h.get(&format!("/cgi-bin/token?{query}")).await;
        assert_eq!(answer.status, 200);
        assert_eq!(
            answer.header("content-type"),
            "application/json; encoding=utf-8"
        );
        assert_eq!(answer.errcode(), code, "{query}");
        let errmsg = answer.json()["errmsg"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(errmsg.contains(" rid: "), "{errmsg}");
    }
    let not_post = h.get("/cgi-bin/stable_token").await;
    assert_eq!(not_post.errcode(), 43002);
    let not_json = h
        .send(h.http.post(h.url("/cgi-bin/stable_token")).body("appid=x"))
        .await;
    assert_eq!(not_json.errcode(), 47001);
}

#[tokio::test]
async fn stable_token_remaining_time_and_force_refresh() {
    let h = Harness::start().await;
    let body = json!({"grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET});
    let first = h.post_json("/cgi-bin/stable_token", &body).await.json();
    assert_eq!(first["expires_in"], 7200);
    h.emu.advance_clock(1_000_000);
    let again = h.post_json("/cgi-bin/stable_token", &body).await.json();
    assert_eq!(again["access_token"], first["access_token"]);
    // Remaining seconds, rounded down: real time passes between the calls.
    let remaining = again["expires_in"].as_u64().unwrap_or_default();
    assert!((6195..=6200).contains(&remaining), "{remaining}");

    let mut forced = body.clone();
    forced["force_refresh"] = json!(true);
    let refreshed = h.post_json("/cgi-bin/stable_token", &forced).await.json();
    assert_ne!(refreshed["access_token"], first["access_token"]);
    for _ in 1..20 {
        h.post_json("/cgi-bin/stable_token", &forced).await;
    }
    assert_eq!(
        h.post_json("/cgi-bin/stable_token", &forced)
            .await
            .errcode(),
        45009
    );
}

#[tokio::test]
async fn token_checks_on_apis() {
    let h = Harness::start().await;
    let parts = [media_part("a.png", PNG)];
    let missing = h
        .post_multipart("/cgi-bin/media/upload?type=image", &parts)
        .await;
    assert_eq!(missing.errcode(), 41001);
    assert_eq!(
        h.upload("EMU_unknown", "image", &parts).await.errcode(),
        40001
    );
    let cloudbase = h.emu.issue_cloudbase_token();
    // A cloudbase token is refused as access_token, accepted under its own name.
    assert_eq!(h.upload(&cloudbase, "image", &parts).await.errcode(), 40001);
    let path = format!("/cgi-bin/media/upload?cloudbase_access_token={cloudbase}&type=image");
    assert_eq!(h.post_multipart(&path, &parts).await.errcode(), 0);
    let issued = h.emu.issue_token(None).expect("the default app");
    let path = format!("/cgi-bin/media/upload?cloudbase_access_token={issued}&type=image");
    assert_eq!(h.post_multipart(&path, &parts).await.errcode(), 40001);

    let open = Harness::with(EmulatorOptions {
        open_api_service: true,
        ..EmulatorOptions::default()
    })
    .await;
    let answer = open
        .post_multipart("/cgi-bin/media/upload?type=image", &parts)
        .await;
    assert_eq!(answer.errcode(), 0);
}

#[tokio::test]
async fn media_upload_and_get_round_trip() {
    let h = Harness::start().await;
    let token = h.emu.issue_token(None).expect("the default app");
    let answer = h
        .upload(&token, "image", &[media_part("photo.png", PNG)])
        .await;
    let body = answer.json();
    assert_eq!(body["errcode"], 0);
    assert_eq!(body["type"], "image");
    assert!(body["created_at"].is_u64());
    let media_id = body["media_id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(media_id.len(), 64);

    let got = h
        .get(&format!(
            "/cgi-bin/media/get?access_token={token}&media_id={media_id}"
        ))
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(&got.body[..], PNG);
    assert_eq!(got.header("content-type"), "image/png");
    assert_eq!(
        got.header("content-disposition"),
        format!("attachment; filename=\"{media_id}.png\"")
    );
    assert_eq!(got.header("content-length"), PNG.len().to_string());

    h.emu.advance_clock(3 * 86_400_000);
    let token = h.emu.issue_token(None).expect("the default app");
    let gone = h
        .get(&format!(
            "/cgi-bin/media/get?access_token={token}&media_id={media_id}"
        ))
        .await;
    assert_eq!(gone.header("content-type"), "text/plain");
    assert_eq!(gone.errcode(), 40007);
}

#[tokio::test]
async fn thumb_and_video_media() {
    let h = Harness::start().await;
    let token = h.emu.issue_token(None).expect("the default app");
    let jpeg: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3];
    let thumb = h
        .upload(&token, "thumb", &[media_part("t.jpg", jpeg)])
        .await
        .json();
    assert!(thumb["thumb_media_id"].is_string());
    assert!(thumb.get("media_id").is_none());

    let mp4: &[u8] = b"\0\0\0\x18ftypmp42rest-of-video";
    let video = h
        .upload(&token, "video", &[media_part("v.mp4", mp4)])
        .await
        .json();
    let id = video["media_id"].as_str().unwrap_or_default().to_owned();
    let got = h
        .get(&format!(
            "/cgi-bin/media/get?access_token={token}&media_id={id}"
        ))
        .await
        .json();
    let video_url = got["video_url"].as_str().unwrap_or_default().to_owned();
    assert!(video_url.ends_with(&format!("/__emulator/video/{id}")));
    let bytes = h.send(h.http.get(&video_url)).await;
    assert_eq!(&bytes.body[..], mp4);
}

#[tokio::test]
async fn media_upload_is_strict() {
    let h = Harness::start().await;
    let token = h.emu.issue_token(None).expect("the default app");
    let wrong_name = Part {
        disposition: "form-data; name=\"file\"; filename=\"a.png\"".into(),
        content_type: None,
        data: PNG,
    };
    let rfc2231 = Part {
        disposition: "form-data; name=\"media\"; filename*=UTF-8''a.png".into(),
        content_type: None,
        data: PNG,
    };
    let cases: [(&str, Vec<Part>, i64); 6] = [
        ("image", vec![wrong_name], 41005),
        ("image", vec![rfc2231], 41005),
        ("image", vec![media_part("a.png", b"")], 41005),
        ("image", vec![media_part("a.gif", PNG)], 40005),
        ("voice", vec![media_part("a.png", PNG)], 40005),
        ("sticker", vec![media_part("a.png", PNG)], 40004),
    ];
    for (kind, parts, code) in cases {
        assert_eq!(
            h.upload(&token, kind, &parts).await.errcode(),
            code,
            "{kind} {code}"
        );
    }
    // Streamed (chunked) bodies are refused with 412 before anything else.
    let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(multipart(&[
        media_part("a.png", PNG),
    ])))]);
    let chunked = h
        .send(
            h.http
                .post(h.url(&format!(
                    "/cgi-bin/media/upload?access_token={token}&type=image"
                )))
                .header("content-type", "multipart/form-data; boundary=EmuBoundary")
                .body(reqwest::Body::wrap_stream(chunks)),
        )
        .await;
    assert_eq!(chunked.status, 412);
    assert_eq!(h.emu.stats()["storedMedia"], 0);
}

#[tokio::test]
async fn media_size_limits_are_configurable() {
    let h = Harness::with(EmulatorOptions {
        media_limits: super::MediaLimits {
            image: 16,
            ..Default::default()
        },
        ..EmulatorOptions::default()
    })
    .await;
    let token = h.emu.issue_token(None).expect("the default app");
    let big = [PNG, &[0u8; 16]].concat();
    assert_eq!(
        h.upload(&token, "image", &[media_part("a.png", &big)])
            .await
            .errcode(),
        40009
    );
}

/// Gets an upload ticket and returns (ticket JSON, the COS form parts in order).
async fn ticket(h: &Harness, token: &str, path: &str) -> Value {
    let answer = h
        .post_json(
            &format!("/tcb/uploadfile?access_token={token}"),
            &json!({"env": DEFAULT_ENV, "path": path}),
        )
        .await;
    answer.json()
}

fn cos_fields(ticket: &Value, path: &str) -> Vec<(String, String)> {
    let text = |k: &str| ticket[k].as_str().unwrap_or_default().to_owned();
    vec![
        ("key".into(), path.to_owned()),
        ("Signature".into(), text("authorization")),
        ("x-cos-security-token".into(), text("token")),
        ("x-cos-meta-fileid".into(), text("cos_file_id")),
    ]
}

async fn post_cos(h: &Harness, url: &str, fields: &[(String, String)], file_last: bool) -> Answer {
    let mut parts: Vec<Part> = fields
        .iter()
        .map(|(name, value)| field(name, value))
        .collect();
    let file = Part {
        disposition: "form-data; name=\"file\"; filename=\"blob\"".into(),
        content_type: Some("text/plain"),
        data: b"hello cos",
    };
    if file_last {
        parts.push(file);
    } else {
        parts.insert(1, file);
    }
    let request = h
        .http
        .post(url)
        .header("content-type", "multipart/form-data; boundary=EmuBoundary")
        .body(multipart(&parts));
    h.send(request).await
}

#[tokio::test]
async fn cloud_storage_upload_download_delete() {
    let h = Harness::start().await;
    let token = h.emu.issue_token(None).expect("the default app");
    let path = "dir/hello world.txt";
    let t = ticket(&h, &token, path).await;
    assert_eq!(t["errcode"], 0);
    let url = t["url"].as_str().unwrap_or_default().to_owned();
    assert!(
        url.ends_with("/cos/7465-wx-media-emu-1250000000/dir/hello%20world.txt"),
        "{url}"
    );
    let file_id = t["file_id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        file_id,
        "cloud://wx-media-emu.7465-wx-media-emu-1250000000/dir/hello world.txt"
    );

    let fields = cos_fields(&t, path);
    let stored = post_cos(&h, &url, &fields, true).await;
    assert_eq!(stored.status, 204);
    assert!(stored.header("etag").starts_with('"'));

    let links = h
        .post_json(
            &format!("/tcb/batchdownloadfile?access_token={token}"),
            &json!({"env": DEFAULT_ENV, "file_list": [
                {"fileid": file_id, "max_age": 60},
                {"fileid": "cloud://wx-media-emu.7465-wx-media-emu-1250000000/none", "max_age": 60},
            ]}),
        )
        .await
        .json();
    let item = &links["file_list"][0];
    assert_eq!(item["status"], 0);
    let link = item["download_url"].as_str().unwrap_or_default().to_owned();
    assert_eq!(links["file_list"][1]["status"], -503003);
    assert_eq!(links["file_list"][1]["download_url"], "");

    let download = h.send(h.http.get(&link)).await;
    assert_eq!(download.status, 200);
    assert_eq!(&download.body[..], b"hello cos");
    assert_eq!(download.header("content-type"), "text/plain");
    let tampered = h.send(h.http.get(link.replace("sign=", "sign=0"))).await;
    assert_eq!(tampered.status, 403);
    h.emu.advance_clock(61_000);
    let expired = h.send(h.http.get(&link)).await;
    assert_eq!(expired.status, 403);
    assert!(String::from_utf8_lossy(&expired.body).contains("Request has expired"));

    let token = h.emu.issue_token(None).expect("the default app");
    let deleted = h
        .post_json(
            &format!("/tcb/batchdeletefile?access_token={token}"),
            &json!({"env": DEFAULT_ENV, "fileid_list": [file_id, file_id]}),
        )
        .await
        .json();
    assert_eq!(deleted["delete_list"][0]["status"], 0);
    assert_eq!(deleted["delete_list"][1]["status"], -503003);
    assert_eq!(h.emu.stats()["storedObjects"], 0);
}

#[tokio::test]
async fn cos_form_is_strict() {
    let h = Harness::start().await;
    let token = h.emu.issue_token(None).expect("the default app");
    let path = "a.txt";
    let t = ticket(&h, &token, path).await;
    let url = t["url"].as_str().unwrap_or_default().to_owned();
    let fields = cos_fields(&t, path);

    let not_last = post_cos(&h, &url, &fields, false).await;
    assert_eq!(not_last.status, 400);
    assert!(String::from_utf8_lossy(&not_last.body).contains("<Code>MalformedPOSTRequest</Code>"));
    assert!(!not_last.header("x-cos-request-id").is_empty());

    let mut bad_sig = fields.clone();
    bad_sig[1].1.push('x');
    let answer = post_cos(&h, &url, &bad_sig, true).await;
    assert_eq!(answer.status, 403);
    assert!(String::from_utf8_lossy(&answer.body).contains("<Code>SignatureDoesNotMatch</Code>"));

    let no_fileid = &fields[..3];
    let answer = post_cos(&h, &url, no_fileid, true).await;
    assert_eq!(answer.status, 403);
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    assert!(
        text.contains("<Code>AccessDenied</Code>") && text.contains("x-cos-meta-fileid"),
        "{text}"
    );

    h.emu.advance_clock(3_600_000);
    let answer = post_cos(&h, &url, &fields, true).await;
    assert!(String::from_utf8_lossy(&answer.body).contains("Request has expired"));
}

#[tokio::test]
async fn cos_refuses_streamed_bodies_and_oversize_bodies_get_413() {
    let h = Harness::with(EmulatorOptions {
        max_body_bytes: 1024,
        ..EmulatorOptions::default()
    })
    .await;
    let token = h.emu.issue_token(None).expect("the default app");
    let t = ticket(&h, &token, "a.txt").await;
    let url = t["url"].as_str().unwrap_or_default().to_owned();
    let body = multipart(&[field("key", "a.txt")]);
    let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(body))]);
    let streamed = h
        .send(
            h.http
                .post(&url)
                .header("content-type", "multipart/form-data; boundary=EmuBoundary")
                .body(reqwest::Body::wrap_stream(chunks)),
        )
        .await;
    assert_eq!(streamed.status, 411);
    assert!(String::from_utf8_lossy(&streamed.body).contains("<Code>MissingContentLength</Code>"));

    let big = h
        .send(h.http.post(h.url("/tcb/uploadfile")).body(vec![b' '; 2048]))
        .await;
    assert_eq!(big.status, 413);
    assert_eq!(h.emu.stats()["requests"]["/tcb/uploadfile"], 2);
}

#[tokio::test]
async fn tcb_parameter_errors() {
    let h = Harness::start().await;
    let token = h.emu.issue_token(None).expect("the default app");
    let upload = format!("/tcb/uploadfile?access_token={token}");
    let unknown_env = h
        .post_json(&upload, &json!({"env": "nope", "path": "a"}))
        .await;
    assert_eq!(unknown_env.errcode(), -501005);
    let leading_slash = h
        .post_json(&upload, &json!({"env": DEFAULT_ENV, "path": "/a"}))
        .await;
    assert_eq!(leading_slash.errcode(), -501007);
    let many: Vec<Value> = (0..51)
        .map(|i| json!({"fileid": format!("cloud://x/{i}"), "max_age": 1}))
        .collect();
    let too_many = h
        .post_json(
            &format!("/tcb/batchdownloadfile?access_token={token}"),
            &json!({"env": DEFAULT_ENV, "file_list": many}),
        )
        .await;
    assert_eq!(too_many.errcode(), -501007);
}

#[tokio::test]
async fn faults_fire_the_given_number_of_times() {
    let h = Harness::start().await;
    let fault = |v: Value| serde_json::from_value::<Fault>(v).expect("fault");
    h.emu
        .inject_fault(fault(json!({"path": "/cgi-bin/token", "errcode": -1})));
    assert_eq!(h.get("/cgi-bin/token").await.errcode(), -1);
    assert_eq!(h.get("/cgi-bin/token").await.errcode(), 40002);

    h.emu.inject_fault(fault(
        json!({"path": "/cgi-bin/", "status": 503, "times": 2}),
    ));
    assert_eq!(h.get("/cgi-bin/token").await.status, 503);
    assert_eq!(h.get("/cgi-bin/media/get").await.status, 503);
    assert_eq!(h.get("/cgi-bin/token").await.status, 200);

    h.emu
        .inject_fault(fault(json!({"path": "/tcb", "reset": true})));
    let reset = h
        .http
        .post(h.url("/tcb/uploadfile"))
        .body("{}")
        .send()
        .await;
    assert!(reset.is_err());

    h.emu.inject_fault(fault(
        json!({"path": "/x", "delayMs": 150, "body": {"created_at": "1"}}),
    ));
    let started = std::time::Instant::now();
    let crafted = h.get("/x").await;
    assert!(started.elapsed().as_millis() >= 150);
    assert_eq!(&crafted.body[..], br#"{"created_at":"1"}"#);

    let stats = h.emu.stats();
    assert_eq!(stats["requests"]["/cgi-bin/token"], 4);
    assert_eq!(stats["requests"]["/tcb/uploadfile"], 1);
    let log = h.emu.requests();
    let last = &log[log.as_array().map_or(0, Vec::len) - 1];
    assert_eq!(last["path"], "/x");
    assert_eq!(last["status"], 200);
}

#[tokio::test]
async fn request_log_describes_parts() {
    let h = Harness::start().await;
    let token = h.emu.issue_token(None).expect("the default app");
    h.upload(&token, "image", &[media_part("a.png", PNG)]).await;
    let log = h.emu.requests_matching("/cgi-bin/media/upload");
    let entry = &log[0];
    assert_eq!(entry["method"], "POST");
    assert_eq!(entry["query"]["type"], "image");
    assert_eq!(entry["errcode"], 0);
    assert!(entry["headers"]["contentLength"].is_u64());
    assert_eq!(entry["headers"]["transferEncoding"], Value::Null);
    let part = &entry["parts"][0];
    assert_eq!(part["name"], "media");
    assert_eq!(part["filename"], "a.png");
    assert_eq!(part["contentType"], "image/png");
    assert_eq!(part["size"], PNG.len());
    assert_eq!(part["sha256"], super::http::sha256_hex(PNG));
    h.emu.clear_requests();
    assert_eq!(h.emu.requests(), json!([]));
}

#[tokio::test]
async fn unknown_path_and_control_routes() {
    let h = Harness::start().await;
    let unknown = h.get("/nope").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.errcode(), -1);

    let info = h.get("/__emulator/info").await.json();
    assert_eq!(info["apps"][0]["appid"], DEFAULT_APPID);
    assert_eq!(info["envs"][0], DEFAULT_ENV);
    let issued = h
        .post_json("/__emulator/issue-token", &json!({}))
        .await
        .json();
    let token = issued["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let ok = h.upload(&token, "image", &[media_part("a.png", PNG)]).await;
    assert_eq!(ok.errcode(), 0);
    h.post_json(
        "/__emulator/faults",
        &json!([{"path": "/cgi-bin/media/get", "errcode": 45009}]),
    )
    .await;
    assert_eq!(h.get("/cgi-bin/media/get").await.errcode(), 45009);
    h.post_json("/__emulator/expire-tokens", &json!({})).await;
    assert_eq!(
        h.upload(&token, "image", &[media_part("a.png", PNG)])
            .await
            .errcode(),
        42001
    );
    let stats = h.get("/__emulator/stats").await.json();
    assert_eq!(stats["requests"]["/cgi-bin/media/upload"], 2);
    assert!(stats["requests"].get("/__emulator/stats").is_none());
    h.post_json("/__emulator/reset", &json!({})).await;
    assert_eq!(
        h.get("/__emulator/stats").await.json()["requests"],
        json!({})
    );
    let bad = h.post_json("/__emulator/faults", &json!({"nope": 1})).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn close_ends_open_connections() {
    let h = Harness::start().await;
    h.emu.inject_fault(
        serde_json::from_value(json!({"path": "/slow", "delay_ms": 60_000})).expect("fault"),
    );
    let url = h.url("/slow");
    let http = h.http.clone();
    let pending = tokio::spawn(async move { http.get(url).send().await });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let closing = tokio::time::timeout(std::time::Duration::from_secs(5), h.emu.close()).await;
    assert!(
        closing.is_ok(),
        "close() must not wait for the slow request"
    );
    let outcome = pending.await.expect("task joins");
    assert!(outcome.is_err());
    let refused = h.http.get(h.url("/cgi-bin/token")).send().await;
    assert!(refused.is_err());
}

#[tokio::test]
async fn lean_mode_validates_but_keeps_nothing() {
    let h = Harness::with(EmulatorOptions {
        lean: true,
        ..EmulatorOptions::default()
    })
    .await;
    let token = h.emu.issue_token(None).expect("the default app");
    let ok = h.upload(&token, "image", &[media_part("a.png", PNG)]).await;
    assert_eq!(ok.errcode(), 0);
    assert!(ok.json()["media_id"].is_string());
    assert_eq!(
        h.upload(&token, "image", &[media_part("a.gif", PNG)])
            .await
            .errcode(),
        40005
    );
    assert_eq!(h.emu.requests(), json!([]));
    assert_eq!(h.emu.stats()["storedMedia"], 0);
    assert_eq!(h.emu.stats()["requests"]["/cgi-bin/media/upload"], 2);
}
