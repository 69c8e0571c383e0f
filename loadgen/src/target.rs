//! What to load: `http://HOST:PORT/PATH` or `HOST:PORT`, resolved once.

use std::net::{SocketAddr, ToSocketAddrs};

/// A resolved HTTP target.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where to connect.
    pub addr: SocketAddr,
    /// The `Host` header value, as given in the URL.
    pub host: String,
    /// The request path, `/` when the URL has none.
    pub path: String,
}

impl Target {
    /// Parses `http://host:port/path` (the port defaults to 80).
    pub fn parse_url(url: &str) -> Result<Target, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let with_port = if host.contains(':') {
            host.to_string()
        } else {
            format!("{host}:80")
        };
        Ok(Target {
            addr: resolve(&with_port)?,
            host: host.to_string(),
            path: path.to_string(),
        })
    }

    /// The bytes of one request for this target.
    pub fn request(&self, method: &str, close: bool) -> Vec<u8> {
        let connection = if close { "Connection: close\r\n" } else { "" };
        format!(
            "{method} {} HTTP/1.1\r\nHost: {}\r\n{connection}\r\n",
            self.path, self.host
        )
        .into_bytes()
    }
}

/// Resolves `host:port` to its first address.
pub fn resolve(host_port: &str) -> Result<SocketAddr, String> {
    host_port
        .to_socket_addrs()
        .map_err(|e| format!("{host_port}: {e}"))?
        .next()
        .ok_or_else(|| format!("{host_port}: no address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// URLs with and without a path, and the request they make.
    #[test]
    fn parses_urls() {
        let t = Target::parse_url("http://127.0.0.1:7001/numbers.txt").unwrap();
        assert_eq!(
            (t.addr.port(), t.path.as_str(), t.host.as_str()),
            (7001, "/numbers.txt", "127.0.0.1:7001")
        );
        let t = Target::parse_url("http://127.0.0.1:7001").unwrap();
        assert_eq!(t.path, "/");
        assert_eq!(
            t.request("HEAD", true),
            b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1:7001\r\nConnection: close\r\n\r\n"
        );
        assert!(Target::parse_url("https://x/").is_err());
    }
}
