//! The backend seam between the calls and the wire: WeChat HTTP (`api.weixin.qq.com`
//! with access tokens) or the TCB gateway (cloud functions). The bindings
//! pick a [`Backend`] when a call is made and hand it every action; neither
//! transport knows about the other.

use crate::client::Client;
use crate::config::ProcessEnvironment;
use crate::error::WxError;
use crate::gateway::{self, Invocation, OpenApiParam, OpenApiResult, Snapshot};
use crate::media::{self, MediaUpload, TempMedia, UploadedMedia};
use crate::source::Source;
use crate::storage::{self, Deleted, DownloadedFile, TempUrl, TempUrlItem, UploadedFile};

/// The transport of one call.
#[derive(Debug, Clone)]
pub enum Backend {
    WeChatHttp,
    /// The environment as it was when the call was made (the platform
    /// rotates credentials and tokens between invocations).
    Gateway(Snapshot),
}

impl Backend {
    /// Chooses the transport and, for the gateway, reads the environment now:
    /// call this on the thread that makes the call.
    pub fn for_call(client: &Client) -> Backend {
        match client.config().gateway {
            Some(_) => Backend::Gateway(Snapshot::capture(&ProcessEnvironment)),
            None => Backend::WeChatHttp,
        }
    }

    /// The app the call acts for, when known: in a cloud function the
    /// invocation's `WX_APPID`, else the client's appid.
    pub fn appid(&self, client: &Client) -> Option<String> {
        let own = || client.config().appid.clone();
        match self {
            Backend::Gateway(snap) => snap.get("WX_APPID").map(str::to_string).or_else(own),
            Backend::WeChatHttp => own(),
        }
    }

    pub fn is_gateway(&self) -> bool {
        matches!(self, Backend::Gateway(_))
    }

    /// The env of a storage call: required over WeChat HTTP; over the gateway
    /// the invocation's env applies when none is given.
    pub fn resolve_env(
        &self,
        client: &Client,
        call_env: Option<String>,
    ) -> Result<Option<String>, WxError> {
        match self {
            Backend::WeChatHttp => storage::resolve_env(call_env, client).map(Some),
            Backend::Gateway(_) => Ok(call_env
                .or_else(|| client.config().env.clone())
                .filter(|e| !e.trim().is_empty())),
        }
    }

    fn invocation(
        &self,
        client: &Client,
        env: Option<&str>,
    ) -> Result<Option<Invocation>, WxError> {
        match (self, &client.config().gateway) {
            (Backend::Gateway(snap), Some(cfg)) => Invocation::resolve(cfg, snap, env).map(Some),
            _ => Ok(None),
        }
    }

    pub async fn upload_file(
        &self,
        client: &Client,
        env: Option<&str>,
        cloud_path: &str,
        content: Source,
    ) -> Result<UploadedFile, WxError> {
        match self.invocation(client, env)? {
            Some(inv) => gateway::storage::upload_file(client, &inv, cloud_path, content).await,
            None => {
                storage::upload_file(client, env.unwrap_or_default(), cloud_path, content).await
            }
        }
    }

    pub async fn download_file(
        &self,
        client: &Client,
        env: Option<&str>,
        file_id: &str,
    ) -> Result<DownloadedFile, WxError> {
        match self.invocation(client, env)? {
            Some(inv) => gateway::storage::download_file(client, &inv, file_id).await,
            None => storage::download_file(client, env.unwrap_or_default(), file_id).await,
        }
    }

    pub async fn get_temp_file_urls(
        &self,
        client: &Client,
        env: Option<&str>,
        items: Vec<TempUrlItem>,
    ) -> Result<Vec<TempUrl>, WxError> {
        match self.invocation(client, env)? {
            Some(inv) => gateway::storage::get_temp_file_urls(client, &inv, items).await,
            None => storage::get_temp_file_urls(client, env.unwrap_or_default(), items).await,
        }
    }

    pub async fn delete_files(
        &self,
        client: &Client,
        env: Option<&str>,
        file_ids: Vec<String>,
    ) -> Result<Vec<Deleted>, WxError> {
        match self.invocation(client, env)? {
            Some(inv) => gateway::storage::delete_files(client, &inv, file_ids).await,
            None => storage::delete_files(client, env.unwrap_or_default(), file_ids).await,
        }
    }

    pub async fn upload_temp_media(
        &self,
        client: &Client,
        upload: MediaUpload,
    ) -> Result<UploadedMedia, WxError> {
        match self.invocation(client, client.config().env.as_deref())? {
            Some(inv) => gateway::openapi::upload_temp_media(client, &inv, upload).await,
            None => media::upload_temp_media(client, upload).await,
        }
    }

    pub async fn get_temp_media(
        &self,
        client: &Client,
        media_id: &str,
        max_bytes: u64,
    ) -> Result<TempMedia, WxError> {
        media::check_media_id(media_id)?;
        match self.invocation(client, client.config().env.as_deref())? {
            Some(inv) => gateway::openapi::get_temp_media(client, &inv, media_id).await,
            None => media::get_temp_media(client, media_id, max_bytes).await,
        }
    }

    /// Any cloud call by name through the gateway's `wx.openApi`. Over
    /// WeChat HTTP, names go through `crate::openapi`'s table instead.
    pub async fn open_api(
        &self,
        client: &Client,
        name: &str,
        params: Vec<(String, OpenApiParam)>,
    ) -> Result<OpenApiResult, WxError> {
        check_api_name(name)?;
        match self.invocation(client, client.config().env.as_deref())? {
            Some(inv) => gateway::openapi::call(client, &inv, name, params).await,
            None => Err(WxError::invalid_param(format!(
                "{name}: a generic cloud call needs the TCB gateway (a cloud function)"
            ))),
        }
    }
}

fn check_api_name(name: &str) -> Result<(), WxError> {
    let ok = name.split('.').count() == 2
        && name
            .split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    if ok {
        Ok(())
    } else {
        Err(WxError::invalid_param(format!(
            "the cloud call name must be 'namespace.api' (e.g. 'customerServiceMessage.send'), got '{}'",
            name.chars().take(80).collect::<String>()
        )))
    }
}
