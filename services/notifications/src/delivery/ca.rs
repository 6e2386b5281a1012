//! Extra CA certificates read from a PEM file: the private CAs an operator
//! trusts for the SMTP relay (`smtp.ca_file`) and for HTTPS receivers
//! (`notify.http_ca_file`).

use std::path::{Path, PathBuf};

use rustls::pki_types::{CertificateDer, pem::PemObject};

/// Why a CA file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CaFileError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The file is not PEM, or holds no certificate.
    #[error("{path} holds no PEM certificate{detail}")]
    NoCertificate {
        /// The file.
        path: PathBuf,
        /// The parser's complaint, if it had one.
        detail: String,
    },
}

/// Every certificate in the PEM file at `path`; at least one.
pub fn load(path: &Path) -> Result<Vec<CertificateDer<'static>>, CaFileError> {
    let pem = std::fs::read(path).map_err(|source| CaFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    let no_certificate = |detail: String| CaFileError::NoCertificate {
        path: path.to_owned(),
        detail,
    };
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| no_certificate(format!(": {e}")))?;
    if certs.is_empty() {
        return Err(no_certificate(String::new()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_empty_files_are_refused() {
        let missing = load(Path::new("/nonexistent/rapport-ca.pem")).unwrap_err();
        assert!(matches!(missing, CaFileError::Read { .. }), "{missing}");
        let dir = rapport_kit::testing::fresh_dir();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = load(&empty).unwrap_err();
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
    }
}
