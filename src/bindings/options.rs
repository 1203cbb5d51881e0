//! Type declarations of the client options for index.d.ts. The options are
//! read by hand in `args::client_options` (for precise errors and for the
//! function-valued token providers), so these structs are never built.
#![allow(dead_code)]

use napi_derive::napi;

/// Options of `new WxClient(options)` and `init(options)`; all optional.
#[napi(object)]
pub struct WxClientOptions {
    /// AppID; default env `WX_APPID`.
    pub appid: Option<String>,
    /// AppSecret; default env `WX_APPSECRET`. Never appears in errors or logs.
    pub secret: Option<String>,
    /// `'stable'` (POST /cgi-bin/stable_token, default) or `'legacy'` (GET /cgi-bin/token).
    #[napi(ts_type = "'stable' | 'legacy'")]
    pub token_mode: Option<String>,
    /// An access token, or a function returning one (or a promise of one), from your own token service.
    #[napi(ts_type = "string | (() => string | Promise<string>)")]
    pub access_token: Option<String>,
    /// Sent as `?cloudbase_access_token=`; default env `WX_CLOUDBASE_ACCESSTOKEN`,
    /// then the file `/.tencentcloudbase/wx/cloudbase_access_token`.
    #[napi(ts_type = "string | (() => string | Promise<string>)")]
    pub cloudbase_access_token: Option<String>,
    /// Cloud-run open API service: no token at all, default base URL `http://api.weixin.qq.com`.
    pub open_api_service: Option<bool>,
    /// Cloud Base environment id; default env `TCB_ENV`. As in wx-server-sdk, also
    /// `DYNAMIC_CURRENT_ENV` (the function's env at each call), or an object
    /// whose `storage` (else `default`) is used; `database`/`functions` are accepted and unused.
    #[napi(
        ts_type = "EnvId | { default?: EnvId; storage?: EnvId; database?: EnvId; functions?: EnvId }"
    )]
    pub env: Option<String>,
    /// wx-server-sdk's; accepted, no effect (no user tracing here).
    pub trace_user: Option<bool>,
    /// wx-server-sdk's (database `doc.get()`); accepted, no effect.
    pub throw_on_not_found: Option<bool>,
    /// API origin; default `https://api.weixin.qq.com`.
    pub base_url: Option<String>,
    /// Milliseconds per request: one number, or JSON calls and transfers apart.
    /// Default `{ json: 15000, transfer: 60000 }`.
    #[napi(ts_type = "number | { json?: number; transfer?: number }")]
    pub timeout: Option<f64>,
    /// Extra attempts on network errors, 5xx and errcode -1 (backoff with jitter); default 2.
    pub retries: Option<u32>,
    /// HTTP requests in flight for this client; more wait in a queue. Default 64.
    pub max_concurrency: Option<u32>,
    /// HTTP(S) proxy URL; by default `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` apply.
    pub proxy: Option<String>,
    /// Extra trusted root certificate(s), PEM.
    #[napi(ts_type = "string | Buffer")]
    pub ca_cert: Option<String>,
    /// Temporary media size limits in bytes; default image 10 MiB, voice 2 MiB, video 10 MiB, thumb 64 KiB.
    pub media_size_limits: Option<MediaSizeLimits>,
    /// Largest body `downloadFile`/`getTempMedia` will hold in memory; default 256 MiB.
    pub max_download_bytes: Option<f64>,
    /// Largest upload `uploadFile` accepts; sources of unknown length (streams,
    /// URLs without a Content-Length) are buffered up to it. Default 1 GiB.
    pub max_upload_bytes: Option<f64>,
    /// Redirects `http.uploadFile`/`http.downloadFile` follow; default 5, 0 = none.
    /// WeChat and COS calls never follow redirects.
    pub max_redirects: Option<u32>,
    /// TCB gateway (cloud functions): Tencent Cloud SecretId; default env
    /// `TENCENTCLOUD_SECRETID`, read per request. Any of `secretId`,
    /// `secretKey`, `sessionToken`, `serviceUrl` selects the gateway, which
    /// is also chosen by itself inside a cloud function (`TENCENTCLOUD_RUNENV=SCF`).
    pub secret_id: Option<String>,
    /// Tencent Cloud SecretKey; default env `TENCENTCLOUD_SECRETKEY`. Never appears in errors or logs.
    pub secret_key: Option<String>,
    /// STS session token of temporary credentials; default env `TENCENTCLOUD_SESSIONTOKEN`.
    pub session_token: Option<String>,
    /// Gateway URL, e.g. `http://127.0.0.1:PORT/admin`; default `TCB_CONTEXT_CNFG`'s `URL`, then the internal gateway host.
    pub service_url: Option<String>,
    /// Share tokens across a fleet of processes through Redis (needs `appid` + `secret`):
    /// `{ redis: 'redis://host:6379' }` or `{ redis: { url, prefix?, lockMs? } }`
    /// (`lockMs`: how long one refresher holds the fleet lock, default 5000),
    /// or through your own `{ get(key), set(key, { token, expiresAt }) }` hooks.
    /// Store trouble never fails a call: each process falls back to its own cache.
    #[napi(
        ts_type = "{ redis: string | { url: string; prefix?: string; lockMs?: number } } | TokenStoreHooks"
    )]
    pub token_store: Option<String>,
    /// Reuse the `mediaId` of identical bytes (same appid and type) instead
    /// of uploading them again, until 1 h before the media's 3 days end:
    /// `true` (in this process) or `{ redis: 'redis://host:6379' }` (the whole
    /// fleet), with `prefix`, `ttlMs` (default and most: 3 days − 1 h),
    /// `lockMs` (one uploader per image in the fleet, default 10000) and
    /// `maxEntries` (in-process, default 10000). Hits resolve `cached: true`.
    /// Only bytes in memory are cached (not streams, files or URLs).
    #[napi(
        ts_type = "boolean | { redis?: string | { url: string; prefix?: string; lockMs?: number }; prefix?: string; ttlMs?: number; lockMs?: number; maxEntries?: number }"
    )]
    pub media_cache: Option<String>,
}

/// Per-type size limits of temporary media, in bytes.
#[napi(object)]
pub struct MediaSizeLimits {
    pub image: Option<f64>,
    pub voice: Option<f64>,
    pub video: Option<f64>,
    pub thumb: Option<f64>,
}
