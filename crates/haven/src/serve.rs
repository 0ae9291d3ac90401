//! `haven serve`: checks the store is ready (keys, a verifying audit chain,
//! an agreement whose import the chain attests), then serves the web app
//! and API from `haven-server` until stopped.

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::Cli;

pub fn serve(cli: &Cli, bind: SocketAddr, tls: Option<(&Path, &Path)>) -> Result<()> {
    let app = crate::governance::app(cli);
    haven_server::check_ready(&app)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the server's runtime")?;
    runtime.block_on(async {
        let listener = std::net::TcpListener::bind(bind).with_context(|| format!("listening on {bind}"))?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        if !haven_server::is_loopback(&addr) && tls.is_none() {
            eprintln!("haven: serving plain HTTP on {addr}, which is not loopback: only behind a reverse proxy that terminates TLS");
        }
        // The address alone on stdout, for scripts and tests (port 0 binds any).
        println!("{scheme}://{addr}/");
        eprintln!("haven: serving {} on {scheme}://{addr}/ (Ctrl-C to stop)", cli.data_dir.display());
        match tls {
            Some((cert, key)) => haven_server::serve_tls(app, listener, cert, key).await?,
            None => {
                listener.set_nonblocking(true)?;
                haven_server::serve(app, tokio::net::TcpListener::from_std(listener)?).await?
            }
        }
        Ok(())
    })
}
