//! The error model shared by every call (SPEC §4).
//!
//! Every failure becomes a [`WxError`]: a stable string `code`, a numeric
//! `errCode` (WeChat's own errcode when WeChat answered with one), and a
//! wx-server-sdk style message. Nothing secret may end up in one: details
//! that come from transport errors go through [`redact`] first.

use std::fmt;

/// Stable error codes, the `code` property of a rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad input, refused before any request.
    InvalidParam,
    /// WeChat answered with a non-zero `errcode`.
    WxApi,
    /// A token could not be obtained or was rejected after a refresh.
    Token,
    /// Tencent COS answered with an `<Error>` document.
    Cos,
    /// The request exceeded its timeout.
    Timeout,
    /// Connecting, sending or receiving failed.
    Network,
    /// The caller aborted the call.
    Aborted,
    /// An unexpected HTTP status or an unreadable reply.
    HttpStatus,
    /// The source of an upload (a URL, a stream, a mediaId or fileID) failed.
    Source,
    /// A reply held in memory is larger than `maxDownloadBytes` (or the
    /// JSON reply limit); stream it to a `filePath` instead.
    TooLarge,
    /// The client was closed (`WxClient.close()`) before or during the call.
    ClientClosed,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidParam => "INVALID_PARAM",
            ErrorKind::WxApi => "WX_API_ERROR",
            ErrorKind::Token => "TOKEN_ERROR",
            ErrorKind::Cos => "COS_ERROR",
            ErrorKind::Timeout => "TIMEOUT",
            ErrorKind::Network => "NETWORK",
            ErrorKind::Aborted => "ABORTED",
            ErrorKind::HttpStatus => "HTTP_STATUS",
            ErrorKind::Source => "SOURCE_ERROR",
            ErrorKind::TooLarge => "TOO_LARGE",
            ErrorKind::ClientClosed => "CLIENT_CLOSED",
        }
    }
}

/// errCode used for failures that did not come with a code from WeChat.
pub const LOCAL_ERR_CODE: i64 = -1;
/// errCode of a failed storage request (COS), as wx-server-sdk 3.x reports it.
pub const STORAGE_REQUEST_FAIL: i64 = -503001;

/// A failed call.
#[derive(Debug, Clone, PartialEq)]
pub struct WxError {
    pub kind: ErrorKind,
    pub err_code: i64,
    /// What went wrong, the part after `<api>:fail `.
    pub detail: String,
    /// The API name used in `errMsg`, e.g. `openapi.customerServiceMessage.uploadTempMedia`.
    pub api: &'static str,
    /// Request id reported by the server (COS `RequestId`), when there is one.
    pub request_id: Option<String>,
    /// HTTP status of the reply that failed, when there was a reply.
    pub status: Option<u16>,
    /// A batch call that failed part-way: every item's outcome, in input order.
    pub file_list: Vec<BatchItemReport>,
}

/// How far one item of a failed batch call got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    /// Its batch completed: `status` / `errMsg` are the server's answer for it.
    Done,
    /// Its batch failed; after a TIMEOUT or NETWORK failure the server may
    /// still have acted on it.
    Failed,
    /// Its batch was never sent.
    NotAttempted,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Done => "done",
            ItemState::Failed => "failed",
            ItemState::NotAttempted => "notAttempted",
        }
    }
}

/// One item of [`WxError::file_list`].
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItemReport {
    pub file_id: String,
    pub state: ItemState,
    pub status: i64,
    pub err_msg: String,
    /// `getTempFileURL`: the link, for items done.
    pub temp_file_url: Option<String>,
}

impl WxError {
    pub fn new(kind: ErrorKind, err_code: i64, detail: impl Into<String>) -> Self {
        WxError {
            kind,
            err_code,
            detail: redact(&detail.into()),
            api: "",
            request_id: None,
            status: None,
            file_list: Vec::new(),
        }
    }

    pub fn invalid_param(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParam, LOCAL_ERR_CODE, detail)
    }

    /// A business error reported by WeChat (`errcode` ≠ 0).
    pub fn wechat(err_code: i64, errmsg: &str) -> Self {
        let kind = if is_token_errcode(err_code) {
            ErrorKind::Token
        } else {
            ErrorKind::WxApi
        };
        Self::new(kind, err_code, errmsg)
    }

    pub fn timeout(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Timeout, LOCAL_ERR_CODE, detail)
    }

    /// A call on (or pending at) a closed client.
    pub fn client_closed() -> Self {
        Self::new(
            ErrorKind::ClientClosed,
            LOCAL_ERR_CODE,
            "the client was closed (WxClient.close()); create a new WxClient to make more calls",
        )
    }

    pub fn network(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Network, LOCAL_ERR_CODE, detail)
    }

    /// The caller's `signal` aborted the call.
    pub fn aborted() -> Self {
        Self::new(
            ErrorKind::Aborted,
            LOCAL_ERR_CODE,
            "aborted by the caller's signal",
        )
    }

    pub fn http_status(status: u16, detail: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorKind::HttpStatus, LOCAL_ERR_CODE, detail);
        e.status = Some(status);
        e
    }

    /// The source of an upload failed; `status` is the source's HTTP status.
    pub fn source(status: Option<u16>, detail: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorKind::Source, LOCAL_ERR_CODE, detail);
        e.status = status;
        e
    }

    /// Names the API in `errMsg` unless a deeper layer already did.
    pub fn with_api(mut self, api: &'static str) -> Self {
        if self.api.is_empty() {
            self.api = api;
        }
        self
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// `errMsg` as wx-server-sdk renders it: `<api>:fail <detail>`.
    pub fn err_msg(&self) -> String {
        let api = if self.api.is_empty() {
            "wx-media"
        } else {
            self.api
        };
        format!("{api}:fail {}", self.detail)
    }

    /// `message` in wx-server-sdk's `CloudSDKError` form.
    pub fn message(&self) -> String {
        format!(
            "errCode: {} {} | errMsg: {}",
            self.err_code,
            self.code_text(),
            self.err_msg()
        )
    }

    /// The short text after the errCode: WeChat's meaning of its code, or
    /// what kind of local failure this is (-1 from WeChat means "busy").
    fn code_text(&self) -> &'static str {
        if self.err_code != LOCAL_ERR_CODE || self.kind == ErrorKind::WxApi {
            return errcode_text(self.err_code);
        }
        match self.kind {
            ErrorKind::InvalidParam => "invalid parameter",
            ErrorKind::Token => "access token error",
            ErrorKind::Cos => "storage request fail",
            ErrorKind::Timeout => "request timeout",
            ErrorKind::Network => "network error",
            ErrorKind::Aborted => "aborted",
            ErrorKind::Source => "source error",
            ErrorKind::TooLarge => "reply too large",
            ErrorKind::ClientClosed => "client closed",
            ErrorKind::HttpStatus | ErrorKind::WxApi => "unexpected response",
        }
    }
}

impl fmt::Display for WxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for WxError {}

/// Errcodes that mean "this access token is not (or no longer) valid".
pub fn is_token_errcode(code: i64) -> bool {
    matches!(code, 40001 | 40014 | 42001)
}

/// Short text for the errcodes this library meets, like wx-server-sdk's table.
/// Unknown codes give an empty text (wx-server-sdk prints two spaces then).
pub fn errcode_text(code: i64) -> &'static str {
    match code {
        -1 => "system error",
        40001 => "invalid credential",
        40002 => "invalid grant_type",
        40004 => "invalid media type",
        40005 => "invalid file type",
        40006 => "invalid media size",
        40007 => "invalid media_id",
        40009 => "invalid image size",
        40010 => "invalid voice size",
        40011 => "invalid video size",
        40012 => "invalid thumb size",
        40013 => "invalid appid",
        40014 => "invalid access_token",
        40125 => "invalid appsecret",
        40164 => "invalid ip, not in whitelist",
        40243 => "appsecret frozen",
        41001 => "access_token missing",
        41005 => "media data missing",
        42001 => "access_token expired",
        44001 => "empty media data",
        45001 => "media size out of limit",
        45009 => "reach max api daily quota limit",
        45011 => "api minute-quota reach limit",
        48001 => "api unauthorized",
        -501001 => "resource system error",
        -501002 => "resource server timeout",
        -501003 => "exceed request limit",
        -501004 => "exceed concurrent request limit",
        -501005 => "invalid env",
        -501007 => "invalid parameters",
        -501009 => "resource not initialized",
        -503001 => "storage request fail",
        -503002 => "storage exceed authority",
        -503003 => "storage file not exists",
        -503004 => "storage sign param invalid",
        _ => "",
    }
}

/// Masks every secret a live client knows (in any encoding), values of
/// secret parameter names and URL user-info: see [`crate::secrets`].
pub fn redact(text: &str) -> String {
    crate::secrets::scrub(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_has_wx_server_sdk_form() {
        let e = WxError::wechat(40004, "invalid media type rid: 1").with_api("openapi.x.y");
        assert_eq!(
            e.message(),
            "errCode: 40004 invalid media type | errMsg: openapi.x.y:fail invalid media type rid: 1"
        );
        assert_eq!(e.kind, ErrorKind::WxApi);
    }

    #[test]
    fn token_errcodes_are_token_errors() {
        assert_eq!(WxError::wechat(42001, "expired").kind, ErrorKind::Token);
        assert_eq!(WxError::wechat(45009, "quota").kind, ErrorKind::WxApi);
    }

    #[test]
    fn redacts_tokens_and_secrets() {
        let s = "error for url (http://h/cgi-bin/token?grant_type=x&appid=a&secret=S3CR3T&z=1) and http://h/x?access_token=TOK&type=image cloudbase_access_token=CB";
        let r = redact(s);
        assert!(!r.contains("S3CR3T"));
        assert!(!r.contains("TOK&"));
        assert!(!r.contains("=CB"));
        assert!(r.contains("secret=***&z=1"));
        assert!(r.contains("access_token=***&type=image"));
        assert!(r.ends_with("cloudbase_access_token=***"));
    }

    #[test]
    fn local_failures_name_their_kind() {
        let e = WxError::invalid_param("bad").with_api("x");
        assert_eq!(
            e.message(),
            "errCode: -1 invalid parameter | errMsg: x:fail bad"
        );
        assert!(WxError::wechat(-1, "busy")
            .message()
            .starts_with("errCode: -1 system error"));
    }

    #[test]
    fn api_is_set_once() {
        let e = WxError::network("x").with_api("a").with_api("b");
        assert_eq!(e.api, "a");
        assert_eq!(e.err_msg(), "a:fail x");
    }
}
