//! Customer-service messages (`/cgi-bin/message/custom/send`) and the image
//! check (`/wxa/img_sec_check`). Sent messages are kept so that tests can
//! see what reached the "user". The checks are transport-free functions, so
//! the gateway's `wx.openApi` can answer with the same rules.

use std::collections::VecDeque;

use hyper::Method;
use serde_json::{json, Value};

use super::http::{Incoming, Reply, WxError};
use super::media::{check_media, media_type_of, read_media_part, MediaPart, MediaType};
use super::state::{lock, Shared};
use super::tokens::{authorize, Caller};

/// How many sent messages `sentMessages()` keeps.
const MAX_MESSAGES: usize = 1000;
/// An image holding these bytes is judged risky (errcode 87014), so that
/// the refusal path can be tested.
pub const RISKY_MARKER: &[u8] = b"wx-media-emulator:risky";

/// Sent messages, oldest first.
#[derive(Default)]
pub(crate) struct Outbox {
    sent: VecDeque<Value>,
}

impl Outbox {
    fn push(&mut self, message: Value) {
        if self.sent.len() == MAX_MESSAGES {
            self.sent.pop_front();
        }
        self.sent.push_back(message);
    }

    pub(crate) fn all(&self) -> Value {
        Value::Array(self.sent.iter().cloned().collect())
    }

    pub(crate) fn clear(&mut self) {
        self.sent.clear();
    }
}

fn data_format_error() -> WxError {
    WxError::new(47001, "data format error")
}

/// The media id under `body[kind][key]`, which must name a live media of
/// `want` that the caller may use.
fn check_media_ref(
    shared: &Shared,
    caller: &Caller,
    body: &Value,
    kind: &str,
    key: &str,
    want: &[MediaType],
) -> Result<(), WxError> {
    let id = body
        .get(kind)
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| WxError::new(40007, "invalid media_id"))?;
    match media_type_of(shared, caller, id) {
        Some(t) if want.contains(&t) => Ok(()),
        _ => Err(WxError::new(40007, "invalid media_id")),
    }
}

/// WeChat's checks on a customer-service message; records it when valid.
pub(crate) fn send_message(shared: &Shared, caller: &Caller, body: &Value) -> Result<(), WxError> {
    let obj = body.as_object().ok_or_else(data_format_error)?;
    let touser = obj
        .get("touser")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| WxError::new(40003, "invalid openid"))?;
    let msgtype = obj
        .get("msgtype")
        .and_then(Value::as_str)
        .ok_or_else(|| WxError::new(40008, "invalid message type"))?;
    match msgtype {
        "text" => {
            let content = body
                .get("text")
                .and_then(|t| t.get("content"))
                .and_then(Value::as_str);
            if content.is_none_or(str::is_empty) {
                return Err(WxError::new(44003, "empty news data"));
            }
        }
        "image" => check_media_ref(
            shared,
            caller,
            body,
            "image",
            "media_id",
            &[MediaType::Image],
        )?,
        "voice" => check_media_ref(
            shared,
            caller,
            body,
            "voice",
            "media_id",
            &[MediaType::Voice],
        )?,
        "video" => check_media_ref(
            shared,
            caller,
            body,
            "video",
            "media_id",
            &[MediaType::Video],
        )?,
        "link" | "miniprogrampage" | "mpnewsarticle" | "msgmenu" | "news" | "mpnews" | "music" => {
            if !obj.get(msgtype).is_some_and(Value::is_object) {
                return Err(data_format_error());
            }
        }
        _ => return Err(WxError::new(40008, "invalid message type")),
    }
    if !shared.opts.lean {
        lock(&shared.outbox).push(json!({
            "appid": caller.appid(),
            "touser": touser,
            "msgtype": msgtype,
            "message": body,
            "sentAt": shared.clock.now_ms(),
        }));
    }
    Ok(())
}

fn ok() -> Value {
    json!({ "errcode": 0, "errmsg": "ok" })
}

/// `POST /cgi-bin/message/custom/send?access_token=` with a JSON body.
pub(crate) fn handle_send(shared: &Shared, req: &Incoming) -> Reply {
    if req.method != Method::POST {
        return WxError::new(43002, "require POST method").reply();
    }
    let result = authorize(shared, req).and_then(|caller| {
        let body: Value = serde_json::from_slice(&req.body).map_err(|_| data_format_error())?;
        send_message(shared, &caller, &body)
    });
    match result {
        Ok(()) => Reply::json(&ok()),
        Err(err) => err.reply(),
    }
}

/// `security.imgSecCheck`'s verdict on an uploaded `media` part: it must be
/// an image by the rules of media/upload; the risky marker fails it.
pub(crate) fn check_image(shared: &Shared, part: &MediaPart) -> Result<(), WxError> {
    check_media(MediaType::Image, part, &shared.opts.media_limits)?;
    if part
        .data()
        .windows(RISKY_MARKER.len())
        .any(|w| w == RISKY_MARKER)
    {
        return Err(WxError::new(87014, "risky content"));
    }
    Ok(())
}

/// `POST /wxa/img_sec_check?access_token=`, multipart `media`.
pub(crate) async fn handle_img_sec_check(shared: &Shared, req: &Incoming) -> Reply {
    if req.method != Method::POST {
        return WxError::new(43002, "require POST method").reply();
    }
    let result = async {
        authorize(shared, req)?;
        let part = read_media_part(req.content_type(), req.body.clone()).await?;
        check_image(shared, &part)
    }
    .await;
    match result {
        Ok(()) => Reply::json(&ok()),
        Err(err) => err.reply(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::EmulatorOptions;

    fn shared() -> Shared {
        Shared::new(EmulatorOptions::default(), "http://127.0.0.1:1".to_owned())
    }

    fn app() -> Caller {
        Caller::App {
            appid: "wxapp".to_owned(),
        }
    }

    fn code(shared: &Shared, body: Value) -> i64 {
        send_message(shared, &app(), &body).map_or_else(|e| e.code, |()| 0)
    }

    #[test]
    fn send_rules() {
        let s = shared();
        assert_eq!(
            code(
                &s,
                json!({"touser": "o", "msgtype": "text", "text": {"content": "hi"}})
            ),
            0
        );
        assert_eq!(
            code(&s, json!({"msgtype": "text", "text": {"content": "hi"}})),
            40003
        );
        assert_eq!(code(&s, json!({"touser": " ", "msgtype": "text"})), 40003);
        assert_eq!(code(&s, json!({"touser": "o", "msgtype": "fax"})), 40008);
        assert_eq!(
            code(&s, json!({"touser": "o", "msgtype": "text", "text": {}})),
            44003
        );
        assert_eq!(
            code(
                &s,
                json!({"touser": "o", "msgtype": "image", "image": {"media_id": "nope"}})
            ),
            40007
        );
        assert_eq!(code(&s, json!({"touser": "o", "msgtype": "image"})), 40007);
        assert_eq!(code(&s, json!({"touser": "o", "msgtype": "link"})), 47001);
        assert_eq!(code(&s, json!([1])), 47001);
        let sent = lock(&s.outbox).all();
        assert_eq!(sent.as_array().map(Vec::len), Some(1));
        assert_eq!(sent[0]["appid"], "wxapp");
        assert_eq!(sent[0]["message"]["text"]["content"], "hi");
    }

    #[test]
    fn outbox_keeps_the_last_thousand() {
        let mut outbox = Outbox::default();
        for i in 0..(MAX_MESSAGES + 5) {
            outbox.push(json!(i));
        }
        let all = outbox.all();
        assert_eq!(all.as_array().map(Vec::len), Some(MAX_MESSAGES));
        assert_eq!(all[0], json!(5));
        outbox.clear();
        assert_eq!(outbox.all(), json!([]));
    }
}
