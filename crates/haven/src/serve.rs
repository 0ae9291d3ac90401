//! `haven serve`: checks the store is ready (keys, a verifying audit chain,
//! an agreement whose import the chain attests), then serves the web app
//! and API from `haven-server` until stopped.

use std::net::SocketAddr;

use anyhow::{Context, Result};

use crate::cli::Cli;

pub fn serve(cli: &Cli, bind: SocketAddr) -> Result<()> {
    let app = crate::governance::app(cli);
    haven_server::check_ready(&app)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the server's runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(bind).await.with_context(|| format!("listening on {bind}"))?;
        let addr = listener.local_addr()?;
        if !haven_server::is_loopback(&addr) {
            eprintln!("haven: serving on {addr}, which is not loopback: only behind a reverse proxy that terminates TLS");
        }
        // The address alone on stdout, for scripts and tests (port 0 binds any).
        println!("http://{addr}/");
        eprintln!("haven: serving {} on http://{addr}/ (Ctrl-C to stop)", cli.data_dir.display());
        haven_server::serve(app, listener).await?;
        Ok(())
    })
}
