//! `WxClient`, the default client behind `init()` and the module-level
//! functions. (`openapi` is built in lib/openapi.js on `callOpenApi`.)

use std::sync::{Arc, RwLock};

use napi::bindgen_prelude::*;
use napi_derive::napi;

use super::args::{client_options, ArgResult};
use super::errors::js_error;
use super::media::{self, TempMediaFile, TempMediaSaved, TempMediaVideo, UploadTempMediaResult};
use super::storage::{
    self, DeleteFileResult, DownloadFileResult, DownloadFileSaved, GetTempFileUrlResult,
    UploadFileResult,
};
use super::transfer::{Cancel, OnProgress};
use crate::client::Client;
use crate::config::{ClientConfig, ClientOptions, ProcessEnvironment};

/// The client used by `init()` and the module-level functions.
static DEFAULT_CLIENT: RwLock<Option<Arc<Client>>> = RwLock::new(None);

fn new_client(options: ClientOptions) -> ArgResult<Arc<Client>> {
    let cfg = ClientConfig::resolve(options, &ProcessEnvironment)?;
    Ok(Arc::new(Client::new(cfg)?))
}

/// The default client; built from the environment on first use when
/// `init()` was not called.
pub fn default_client() -> ArgResult<Arc<Client>> {
    if let Some(client) = DEFAULT_CLIENT
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
    {
        return Ok(client.clone());
    }
    let mut slot = DEFAULT_CLIENT.write().unwrap_or_else(|e| e.into_inner());
    if let Some(client) = slot.as_ref() {
        return Ok(client.clone());
    }
    let client = new_client(ClientOptions::default())?;
    *slot = Some(client.clone());
    Ok(client)
}

/// Configures the default client used by the module-level functions, like
/// wx-server-sdk's `cloud.init`. Throws on invalid options.
#[napi(ts_args_type = "options?: WxClientOptions")]
pub fn init(env: Env, options: Option<Unknown>) -> Result<()> {
    let client = client_options(options)
        .and_then(new_client)
        .map_err(|e| js_error(&env, &e.with_api("init")))?;
    *DEFAULT_CLIENT.write().unwrap_or_else(|e| e.into_inner()) = Some(client);
    Ok(())
}

/// A client for one appid (or one token source); many can live side by side.
#[napi]
pub struct WxClient {
    pub(super) inner: Arc<Client>,
}

impl WxClient {
    /// The core client, for the other binding modules.
    pub(super) fn client(&self) -> Arc<Client> {
        self.inner.clone()
    }
}

#[napi]
impl WxClient {
    /// Throws an `INVALID_PARAM` error for invalid options.
    #[napi(constructor, ts_args_type = "options?: WxClientOptions")]
    pub fn new(env: Env, options: Option<Unknown>) -> Result<Self> {
        let inner = client_options(options)
            .and_then(new_client)
            .map_err(|e| js_error(&env, &e.with_api("WxClient")))?;
        Ok(WxClient { inner })
    }

    /// The appid this client fetches tokens for, if any.
    #[napi(getter)]
    pub fn appid(&self) -> Option<String> {
        self.inner.config().appid.clone()
    }

    /// The default Cloud Base environment of this client, if any.
    #[napi(getter)]
    pub fn env(&self) -> Option<String> {
        self.inner.config().env_now()
    }

    /// Ends this client: calls in flight and later calls reject with
    /// `CLIENT_CLOSED`; resolves once its connection pool is dropped.
    #[napi]
    pub async fn close(&self) {
        self.inner.close().await
    }

    /// How many times this client fetched (or asked its provider for) a token.
    #[napi(getter)]
    pub fn token_fetch_count(&self) -> f64 {
        self.inner.tokens().fetch_count() as f64
    }

    /// Uploads temporary media (`POST /cgi-bin/media/upload`).
    #[napi(
        ts_args_type = "args: UploadTempMediaArgs",
        ts_return_type = "Promise<UploadTempMediaResult>"
    )]
    pub fn upload_temp_media<'e>(
        &self,
        env: &'e Env,
        args: Option<Unknown<'e>>,
        cancel: Cancel,
        on_progress: OnProgress<'e>,
    ) -> Result<PromiseRaw<'e, UploadTempMediaResult>> {
        media::upload_temp_media(env, Ok(self.inner.clone()), args, cancel, on_progress)
    }

    /// Fetches temporary media back (`GET /cgi-bin/media/get`).
    #[napi(
        ts_args_type = "args: GetTempMediaArgs",
        ts_return_type = "Promise<TempMediaFile | TempMediaVideo | TempMediaSaved>"
    )]
    pub fn get_temp_media<'e>(
        &self,
        env: &'e Env,
        args: Option<Unknown<'e>>,
        cancel: Cancel,
        on_progress: OnProgress<'e>,
    ) -> Result<PromiseRaw<'e, Either3<TempMediaFile, TempMediaVideo, TempMediaSaved>>> {
        media::get_temp_media(env, Ok(self.inner.clone()), args, cancel, on_progress)
    }

    /// Uploads a file to Cloud Base storage (`/tcb/uploadfile`, then the COS form).
    #[napi(
        ts_args_type = "args: UploadFileArgs",
        ts_return_type = "Promise<UploadFileResult>"
    )]
    pub fn upload_file<'e>(
        &self,
        env: &'e Env,
        args: Option<Unknown<'e>>,
        cancel: Cancel,
        on_progress: OnProgress<'e>,
    ) -> Result<PromiseRaw<'e, UploadFileResult>> {
        storage::upload_file(env, Ok(self.inner.clone()), args, cancel, on_progress)
    }

    /// Downloads a Cloud Base file into a Buffer.
    #[napi(
        ts_args_type = "args: DownloadFileArgs",
        ts_return_type = "Promise<DownloadFileResult | DownloadFileSaved>"
    )]
    pub fn download_file<'e>(
        &self,
        env: &'e Env,
        args: Option<Unknown<'e>>,
        cancel: Cancel,
        on_progress: OnProgress<'e>,
    ) -> Result<PromiseRaw<'e, Either<DownloadFileResult, DownloadFileSaved>>> {
        storage::download_file(env, Ok(self.inner.clone()), args, cancel, on_progress)
    }

    /// Temporary download links; any number of files (split into calls of 50).
    #[napi(
        js_name = "getTempFileURL",
        ts_args_type = "args: GetTempFileUrlArgs",
        ts_return_type = "Promise<GetTempFileUrlResult>"
    )]
    pub fn get_temp_file_url<'e>(
        &self,
        env: &'e Env,
        args: Option<Unknown<'e>>,
        cancel: Cancel,
    ) -> Result<PromiseRaw<'e, GetTempFileUrlResult>> {
        storage::get_temp_file_url(env, Ok(self.inner.clone()), args, cancel)
    }

    /// Deletes Cloud Base files; per-file failures are reported, not thrown.
    #[napi(
        ts_args_type = "args: DeleteFileArgs",
        ts_return_type = "Promise<DeleteFileResult>"
    )]
    pub fn delete_file<'e>(
        &self,
        env: &'e Env,
        args: Option<Unknown<'e>>,
        cancel: Cancel,
    ) -> Result<PromiseRaw<'e, DeleteFileResult>> {
        storage::delete_file(env, Ok(self.inner.clone()), args, cancel)
    }
}

/// Uploads temporary media with the default client.
#[napi(
    ts_args_type = "args: UploadTempMediaArgs",
    ts_return_type = "Promise<UploadTempMediaResult>"
)]
pub fn upload_temp_media<'e>(
    env: &'e Env,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
    on_progress: OnProgress<'e>,
) -> Result<PromiseRaw<'e, UploadTempMediaResult>> {
    media::upload_temp_media(env, default_client(), args, cancel, on_progress)
}

/// Fetches temporary media with the default client.
#[napi(
    ts_args_type = "args: GetTempMediaArgs",
    ts_return_type = "Promise<TempMediaFile | TempMediaVideo | TempMediaSaved>"
)]
pub fn get_temp_media<'e>(
    env: &'e Env,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
    on_progress: OnProgress<'e>,
) -> Result<PromiseRaw<'e, Either3<TempMediaFile, TempMediaVideo, TempMediaSaved>>> {
    media::get_temp_media(env, default_client(), args, cancel, on_progress)
}

/// Uploads a file to Cloud Base storage with the default client.
#[napi(
    ts_args_type = "args: UploadFileArgs",
    ts_return_type = "Promise<UploadFileResult>"
)]
pub fn upload_file<'e>(
    env: &'e Env,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
    on_progress: OnProgress<'e>,
) -> Result<PromiseRaw<'e, UploadFileResult>> {
    storage::upload_file(env, default_client(), args, cancel, on_progress)
}

/// Downloads a Cloud Base file with the default client.
#[napi(
    ts_args_type = "args: DownloadFileArgs",
    ts_return_type = "Promise<DownloadFileResult | DownloadFileSaved>"
)]
pub fn download_file<'e>(
    env: &'e Env,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
    on_progress: OnProgress<'e>,
) -> Result<PromiseRaw<'e, Either<DownloadFileResult, DownloadFileSaved>>> {
    storage::download_file(env, default_client(), args, cancel, on_progress)
}

/// Temporary download links with the default client.
#[napi(
    js_name = "getTempFileURL",
    ts_args_type = "args: GetTempFileUrlArgs",
    ts_return_type = "Promise<GetTempFileUrlResult>"
)]
pub fn get_temp_file_url<'e>(
    env: &'e Env,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
) -> Result<PromiseRaw<'e, GetTempFileUrlResult>> {
    storage::get_temp_file_url(env, default_client(), args, cancel)
}

/// Deletes Cloud Base files with the default client.
#[napi(
    ts_args_type = "args: DeleteFileArgs",
    ts_return_type = "Promise<DeleteFileResult>"
)]
pub fn delete_file<'e>(
    env: &'e Env,
    args: Option<Unknown<'e>>,
    cancel: Cancel,
) -> Result<PromiseRaw<'e, DeleteFileResult>> {
    storage::delete_file(env, default_client(), args, cancel)
}
